namespace Ledger.Api.Infrastructure;

/// <summary>The indefinite article for messages that name a kind of thing ("an invoice", "a bill", "an asset account").</summary>
public static class Article
{
    /// <summary><paramref name="words"/> with "a" or "an" before it, by its first letter (no word the API names starts with a silent h or a "yoo" sound).</summary>
    public static string A(string words) =>
        (words.Length > 0 && "aeiouAEIOU".Contains(words[0]) ? "an " : "a ") + words;
}
