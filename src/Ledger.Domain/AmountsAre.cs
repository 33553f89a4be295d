namespace Ledger.Domain;

/// <summary>Whether a document's unit prices are written before tax (exclusive) or with tax included (inclusive).</summary>
public enum AmountsAre
{
    /// <summary>Prices are net: the tax is added on top of each line.</summary>
    Exclusive,

    /// <summary>Prices are gross: each line's tax is the part of the price that is tax.</summary>
    Inclusive,
}

/// <summary>The names <see cref="AmountsAre"/> has in the API: "exclusive" and "inclusive".</summary>
public static class AmountsAreText
{
    public static readonly IReadOnlyList<string> Names = ["exclusive", "inclusive"];

    public static bool TryParse(string? name, out AmountsAre amountsAre)
    {
        switch (name)
        {
            case "exclusive": amountsAre = AmountsAre.Exclusive; return true;
            case "inclusive": amountsAre = AmountsAre.Inclusive; return true;
            default: amountsAre = default; return false;
        }
    }

    public static string ToName(this AmountsAre amountsAre) => amountsAre switch
    {
        AmountsAre.Exclusive => "exclusive",
        AmountsAre.Inclusive => "inclusive",
        _ => throw new ArgumentOutOfRangeException(nameof(amountsAre)),
    };
}
