using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// A query parameter that is not a number is a validation error like any other: 400 problem+json whose
/// <c>errors</c> name the parameter (as <c>limit=0</c> already does), not a bare "Bad request" whose detail quotes
/// the .NET parameter type ("Failed to bind parameter \"Nullable&lt;int&gt; limit\"").
/// </summary>
public sealed class BindingErrorTests(SharedApp shared) : SharedAppTest(shared)
{
    [Theory]
    [InlineData("journal-entries?limit=ten")]
    [InlineData("journal-entries?limit=99999999999")]
    [InlineData("journal-entries?limit=1.5")]
    [InlineData("accounts/1010/ledger?limit=ten")]
    [InlineData("accounts/1010/ledger?limit=99999999999")]
    public async Task A_limit_that_is_not_an_integer_is_a_validation_error_on_limit(string route)
    {
        var book = await StandardBookAsync();
        var response = await Admin.GetAsync($"/v1/books/{book}/{route}");
        var problem = await response.AssertValidationErrorAsync("limit");
        Assert.DoesNotContain("Nullable<", problem.ToJsonString());
    }

    [Theory]
    [InlineData("PATCH", "", "null")]
    [InlineData("POST", "/journal-entries", "null")]
    [InlineData("POST", "/journal-entries", "")]
    [InlineData("POST", "/journal-entries/batch", "null")]
    [InlineData("PUT", "/lock-date", "null")]
    [InlineData("PATCH", "/accounts/1010", "null")]
    public async Task A_missing_or_null_body_is_a_validation_error_on_body(string method, string route, string body)
    {
        var book = await StandardBookAsync();
        var request = new HttpRequestMessage(new HttpMethod(method), $"/v1/books/{book}{route}")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        var problem = await (await Admin.SendAsync(request)).AssertValidationErrorAsync("body");
        Assert.DoesNotContain("Service", problem.ToJsonString());
    }
}
