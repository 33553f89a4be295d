using System.Net;
using System.Text;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>Every refusal is application/problem+json, names what was wrong, and writes nothing.</summary>
public sealed class ErrorFormatTests(SharedApp shared) : SharedAppTest(shared)
{
    [Theory]
    [InlineData("{")]
    [InlineData("{\"date\":\"2026-01-05\",")]
    [InlineData("not json at all")]
    [InlineData("{\"date\":\"2026-01-05\",\"description\":\"x\",\"lines\":[],}")]
    [InlineData("{'date':'2026-01-05'}")]
    [InlineData("[]")]
    [InlineData("\"just a string\"")]
    [InlineData("null")]
    [InlineData("")]
    public async Task Malformed_JSON_is_a_400_problem_and_writes_nothing(string body)
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        var response = await Admin.PostRawAsync(EntriesUrl(book), body);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Theory]
    [InlineData("""{"date":"2026-01-05","description":"x","description":"y","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1"}]}""", "description")]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1","debit":"2"},{"account":"4000","credit":"1"}]}""", "lines[0].debit")]
    public async Task A_field_sent_twice_is_a_400_problem_rather_than_last_one_wins(string body, string field)
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        var problem = await (await Admin.PostRawAsync(EntriesUrl(book), body)).AssertValidationErrorAsync(field);
        // Said in the API's words, without the .NET type the reader names.
        Assert.Contains("more than once", problem.ToJsonString());
        Assert.DoesNotContain("Ledger.Api", problem.ToJsonString());
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task Whole_numbers_must_be_JSON_numbers_while_amounts_may_be_strings()
    {
        var book = await StandardBookAsync();
        await (await Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = "7" })).AssertValidationErrorAsync("fiscalYearStartMonth");
        Assert.Equal(1, (await Admin.GetJsonAsync($"/v1/books/{book}"))["fiscalYearStartMonth"]!.GetValue<int>());
        await (await Admin.PostRawAsync(EntriesUrl(book),
            """{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1.50"},{"account":"4000","credit":1.5}]}""")).AssertCreatedAsync();
    }

    [Fact]
    public async Task Listing_entries_from_after_to_is_a_400_on_from()
    {
        var book = await StandardBookAsync();
        await (await Admin.GetAsync($"{EntriesUrl(book)}?from=2026-02-01&to=2026-01-01")).AssertValidationErrorAsync("from");
    }

    [Theory]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1"}],"number":7}""", "number")]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1"}],"id":1}""", "id")]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1","amount":"1"},{"account":"4000","credit":"1"}]}""", "amount")]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1","currency":"USD"}]}""", "currency")]
    public async Task Unknown_JSON_properties_are_a_400_problem_naming_them(string body, string property)
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        var response = await Admin.PostRawAsync(EntriesUrl(book), body);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem["errors"]!.AsObject(), e => e.Key.Contains(property, StringComparison.Ordinal));
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Theory]
    [InlineData("""{"date":20260105,"description":"x","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1"}]}""", "date")]
    [InlineData("""{"date":"2026-01-05","description":{"text":"x"},"lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1"}]}""", "description")]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":{"account":"1010"}}""", "lines")]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":[{"account":1010,"debit":"1"},{"account":"4000","credit":"1"}]}""", "lines[0].account")]
    [InlineData("""{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":false}]}""", "lines[1].credit")]
    public async Task Wrong_JSON_types_are_400_on_the_field(string body, string field)
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        await (await Admin.PostRawAsync(EntriesUrl(book), body)).AssertValidationErrorAsync(field);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task Text_that_is_not_valid_Unicode_is_400_on_the_field_and_says_so()
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        const string Lines = "\"lines\":[{\"account\":\"1010\",\"debit\":\"1\"},{\"account\":\"4000\",\"credit\":\"1\"}]";
        var surrogate = await (await Admin.PostRawAsync(EntriesUrl(book), $$"""{"date":"2026-01-05","description":"a\ud800b",{{Lines}}}"""))
            .AssertValidationErrorAsync("description");
        Assert.True(surrogate.ToJsonString().Contains("not valid Unicode"), surrogate.ToJsonString());
        var text = $$"""{"date":"2026-01-05","description":"ab",{{Lines}}}""";
        var bytes = System.Text.Encoding.UTF8.GetBytes(text); // ASCII: a character's index is its byte's
        bytes[text.IndexOf("\"ab\"", StringComparison.Ordinal) + 1] = 0xFF;
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var invalid = await (await Admin.PostAsync(EntriesUrl(book), content)).AssertValidationErrorAsync("description");
        Assert.True(invalid.ToJsonString().Contains("not valid Unicode"), invalid.ToJsonString());
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_by_content_type_is_a_problem()
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        var request = new HttpRequestMessage(HttpMethod.Post, EntriesUrl(book))
        {
            Content = new StringContent("""{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1"}]}""",
                Encoding.UTF8, "text/plain"),
        };
        var response = await Admin.SendAsync(request);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task Validation_problems_list_every_broken_field_by_its_JSON_path()
    {
        var book = await StandardBookAsync();
        var response = await Admin.PostRawAsync(EntriesUrl(book), """
            {"date":"2026-13-01","description":"","lines":[{"account":"1010","debit":"1"},{"account":"4000","credit":"1"},{"account":"","debit":"x"}]}
            """);
        var problem = await response.AssertValidationErrorAsync("date");
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("description"), problem.ToJsonString());
        Assert.True(errors.ContainsKey("lines[2].account"), problem.ToJsonString());
        Assert.True(errors.ContainsKey("lines[2].debit"), problem.ToJsonString());
        Assert.False(errors.ContainsKey("lines[0].debit"));
        Assert.All(errors, e => Assert.NotEmpty(e.Value!.AsArray()));
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()));
    }

    [Fact]
    public async Task Unknown_routes_and_methods_answer_problems()
    {
        var book = await StandardBookAsync();
        await (await Admin.GetAsync("/v1/nothing-here")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync($"{EntriesUrl(book)}/not-a-number")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.DeleteAsync($"/v1/books/{book}")).AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
    }
}
