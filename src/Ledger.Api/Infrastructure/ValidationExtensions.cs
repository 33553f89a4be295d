using FluentValidation;
using FluentValidation.Results;

namespace Ledger.Api.Infrastructure;

public static class ValidationExtensions
{
    /// <summary>The book's currency digits, handed to validators that parse amounts.</summary>
    public const string DigitsKey = "digits";

    public static IDictionary<string, string[]> ToFieldErrors(this ValidationResult result) =>
        result.Errors
            .GroupBy(e => e.PropertyName)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray());

    public static int BookDigits<T>(this ValidationContext<T> context) =>
        context.RootContextData.TryGetValue(DigitsKey, out var digits) ? (int)digits : 2;

    /// <summary>FluentValidation names fields after C# members; the API names them after JSON ones (camelCase).</summary>
    public static void UseJsonFieldNames()
    {
        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) =>
            member is null ? null : char.ToLowerInvariant(member.Name[0]) + member.Name[1..];
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
            member is null ? null : char.ToLowerInvariant(member.Name[0]) + member.Name[1..];
        ValidatorOptions.Global.LanguageManager.Enabled = true;
    }
}
