#if !POSTGRES // reads the source, not a database: once is enough
using System.Text.RegularExpressions;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Durability;

/// <summary>
/// Every statement the API runs on a table that belongs to a book filters on that book's id (or, inserting, writes it), so a
/// sharded PostgreSQL (Citus) can send each statement to the one node holding the book. A statement that leaves the filter
/// out still answers correctly (ids are unique across books), so no behaviour test notices: this one reads the SQL in
/// the source. A few statements span books on purpose; they are listed below with the reason.
/// </summary>
public sealed partial class BookFilterTests
{
    // Statements (by how they begin) that span books by design.
    private static readonly (string Start, string Why)[] SpanBooks =
    [
        ("SELECT MAX(recorded_at) FROM commits", "the writer starts its clock after the last commit of any book"),
        ("INSERT INTO commits (id, recorded_at, max_entry_id)", "SQLite's one writer commits groups of many books: its commit log is the process's"),
        ("SELECT COALESCE(MAX(max_entry_id), 0) FROM commits WHERE recorded_at", "SQLite's as-known-at reads that one commit log"),
        ("DELETE FROM idempotency_keys WHERE created_at < @cutoff", "the retention purge forgets old keys of every book"),
        ("SELECT COUNT(*) FROM webhooks WHERE lease_owner IS NOT NULL", "the delivery worker, starting, frees the leases of every book"),
        ("UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL", "the same"),
        ("SELECT w.id, w.book_id FROM webhooks w", "the delivery worker looks for due webhooks in every book"),
    ];

    // Tables of no single book: the books themselves, applied migrations, API keys (admin keys have none).
    private static readonly HashSet<string> NotPerBook = ["books", "schema_migrations", "api_keys"];

    [Fact]
    public void Every_statement_on_a_table_of_a_book_filters_on_its_book_id()
    {
        var perBook = Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "migrations", "postgresql"), "*.sql")
            .SelectMany(file => CreateTable().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
            .Where(table => !NotPerBook.Contains(table)).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("postings", perBook);

        var checkedStatements = 0;
        var unfiltered = new List<string>();
        var spanning = new HashSet<string>(StringComparer.Ordinal);
        var sources = SourceFiles();
        foreach (var (file, source) in sources)
        {
            var literals = Literals(source).ToList();
            var constants = literals.Where(l => l.Name is not null).GroupBy(l => l.Name!).ToDictionary(g => g.Key, g => g.First().Text);
            foreach (var (name, literal, at) in literals)
            {
                var sql = Interpolate(literal, constants);
                if (!StatementStart().IsMatch(sql)) continue;
                if (!perBook.Any(table => Regex.IsMatch(sql, $@"\b{table}\b"))) continue;
                checkedStatements++;
                var (tablesFiltered, bookGiven) = Filters(sql, perBook);
                if (tablesFiltered && bookGiven) continue;
                var flat = Regex.Replace(sql, @"\s+", " ").Trim();
                if (SpanBooks.FirstOrDefault(s => flat.StartsWith(s.Start, StringComparison.Ordinal)) is { Start: { } start })
                {
                    spanning.Add(start);
                    continue;
                }
                // A select list (SELECT … FROM its tables, joined on book_id, and no WHERE) that its callers complete: each
                // completion must give the book.
                if (name is not null && !Regex.IsMatch(flat, @"\bWHERE\b", RegexOptions.IgnoreCase) &&
                    (tablesFiltered || SelectList().IsMatch(flat)) && UsesAddFilter(sources, file, ClassAt(source, at), name, out var uses) && uses > 0)
                    continue;
                unfiltered.Add($"{Path.GetFileName(file)}: {flat[..Math.Min(flat.Length, 160)]}");
            }
        }

        Assert.True(checkedStatements > 150, $"Only {checkedStatements} statements found: is the source still where this test looks?");
        Assert.True(unfiltered.Count == 0, "Statements on a book's table without its book_id:\n" + string.Join("\n", unfiltered));
        // The list above stays true: every statement on it is still in the source, still without the filter.
        Assert.Equal(SpanBooks.Select(s => s.Start).Order(StringComparer.Ordinal), spanning.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Whether each per-book table the statement reads or writes is filtered on its book: by its alias
    /// (<c>p.book_id = …</c>, <c>… = p.book_id</c>), or, with none, by an unqualified or table-qualified <c>book_id</c>;
    /// an INSERT names book_id among its columns. And unless the statement only inserts values, some book_id is
    /// compared with a value the caller gives (a parameter, or a VALUES row of them): a join of two tables on book_id
    /// alone still reads every book.
    /// </summary>
    private static (bool TablesFiltered, bool BookGiven) Filters(string sql, HashSet<string> perBook)
    {
        var reads = false;
        foreach (Match use in TableUse().Matches(sql))
        {
            var table = use.Groups["table"].Value;
            if (!perBook.Contains(table)) continue;
            if (use.Groups["verb"].Value.Equals("INSERT INTO", StringComparison.OrdinalIgnoreCase))
            {
                if (!Regex.IsMatch(sql[use.Index..], $@"^INSERT INTO {table}\s*\([^)]*\bbook_id\b", RegexOptions.IgnoreCase)) return (false, false);
                continue;
            }
            reads = true;
            var alias = use.Groups["alias"].Success && !SqlWords.Contains(use.Groups["alias"].Value.ToUpperInvariant())
                ? use.Groups["alias"].Value : null;
            var qualifier = alias is null ? $@"(?<![\w.])(?:{table}\.)?" : $@"\b{alias}\.";
            var filtered = Regex.IsMatch(sql, $@"{qualifier}book_id\s*(=|IN\b)|=\s*{qualifier}book_id\b", RegexOptions.IgnoreCase);
            if (!filtered) return (false, false);
        }
        return (true, !reads || BookGiven().IsMatch(sql));
    }

    // Words that may follow a table name and are not its alias.
    private static readonly HashSet<string> SqlWords =
        ["WHERE", "ON", "JOIN", "LEFT", "INNER", "SET", "GROUP", "ORDER", "LIMIT", "USING", "AS", "VALUES", "SELECT", "UNION", "AND", "FOR", "RETURNING", "DEFAULT", "WINDOW", "HAVING"];

    // book_id compared with a parameter (@bookId, $1), a list of them, or a column of a VALUES row of them (v.column4).
    // Or a book's own row, by the book id given (books b … WHERE b.id = @bookId).
    [GeneratedRegex(@"\bbook_id\s*(=|IN\b)\s*(@|\$|\(|v\.column)|(@\w+|\$\d+)\s*=\s*(\w+\.)?book_id\b|=\s*@book_?id\b", RegexOptions.IgnoreCase)]
    private static partial Regex BookGiven();

    /// <summary>
    /// Whether every place the constant is completed (<c>Name + " WHERE …"</c> in its own file, <c>Class.Name + …</c> in any)
    /// adds the book filter.
    /// </summary>
    private static bool UsesAddFilter(IReadOnlyList<(string File, string Source)> sources, string ownFile, string? owner, string name,
        out int uses)
    {
        uses = 0;
        foreach (var (file, source) in sources)
        {
            var qualified = owner is null ? null : $@"\b{owner}\.{name}";
            var use = file == ownFile ? $@"(?:(?<![\w.]){name}|{qualified ?? "$^"})" : qualified;
            if (use is null) continue;
            // The completion: a raw """…""" string or a plain "…" one.
            foreach (Match completion in Regex.Matches(source,
                         use + @"\s*\+\s*(?:\$*""""""(?<text>.*?)""""""|\$?""(?<text>(?:[^""\\]|\\.)*)"")", RegexOptions.Singleline))
            {
                uses++;
                if (!BookGiven().IsMatch(completion.Groups["text"].Value)) return false; // " WHERE book_id = @bookId AND …"
            }
        }
        return true;
    }

    // The class a position of the source is in: the last one declared before it (nested classes are not a concern here).
    private static string? ClassAt(string source, int at) =>
        ClassDeclaration().Matches(source[..at]).LastOrDefault()?.Groups[1].Value;

    /// <summary>Every string literal with the constant it is assigned to, if any (raw """…""" strings and "…" strings).</summary>
    private static IEnumerable<(string? Name, string Text, int At)> Literals(string source)
    {
        // "…" + "…" (a statement split over lines) is one literal: its pieces are checked together.
        source = Concatenation().Replace(source, "");
        foreach (Match raw in RawLiteral().Matches(source))
            yield return (raw.Groups["name"].Success ? raw.Groups["name"].Value : null, raw.Groups["text"].Value, raw.Index);
        // Raw literals blanked out (same length, so positions hold) before the plain ones are looked for.
        var rest = RawLiteral().Replace(source, m => new string(' ', m.Length));
        foreach (Match plain in PlainLiteral().Matches(rest))
            yield return (plain.Groups["name"].Success ? plain.Groups["name"].Value : null, plain.Groups["text"].Value, plain.Index);
    }

    /// <summary>The API's C# sources (not build output), each read once.</summary>
    private static List<(string File, string Source)> SourceFiles()
    {
        var separator = Path.DirectorySeparatorChar;
        return Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{separator}obj{separator}") && !file.Contains($"{separator}bin{separator}"))
            .Select(file => (file, File.ReadAllText(file))).ToList();
    }

    // {Name} holes filled with the constant of that name from the same file (a WHERE clause kept apart).
    private static string Interpolate(string literal, Dictionary<string, string> constants) =>
        Regex.Replace(literal, @"\{(\w+)\}", m => constants.TryGetValue(m.Groups[1].Value, out var text) ? text : m.Value);

    [GeneratedRegex(@"""\s*\+\s*\$?@?""")]
    private static partial Regex Concatenation();

    [GeneratedRegex(@"\bclass (\w+)")]
    private static partial Regex ClassDeclaration();

    [GeneratedRegex(@"\b(?<verb>FROM|JOIN|UPDATE|INSERT INTO)\s+(?<table>\w+)(?:\s+(?:AS\s+)?(?<alias>\w+))?", RegexOptions.IgnoreCase)]
    private static partial Regex TableUse();

    [GeneratedRegex(@"CREATE TABLE (\w+)")]
    private static partial Regex CreateTable();

    [GeneratedRegex(@"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH)\b")]
    private static partial Regex StatementStart();

    [GeneratedRegex(@"^SELECT .* FROM \w+( \w+)?$")]
    private static partial Regex SelectList();

    [GeneratedRegex(@"(?:string (?<name>\w+)\s*=\s*)?\$*""""""(?<text>.*?)""""""", RegexOptions.Singleline)]
    private static partial Regex RawLiteral();

    [GeneratedRegex(@"(?:string (?<name>\w+)\s*=\s*)?\$?@?""(?<text>(?:[^""\\\n]|\\.)*)""")]
    private static partial Regex PlainLiteral();
}
#endif
