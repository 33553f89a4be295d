using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Audit;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Banking;

/// <summary>
/// One test on a statement line. Text fields (description, counterparty, counterpartyIban, reference) take contains,
/// equals or startsWith with a string, ignoring case; amount (signed: money in positive) takes equals with a decimal
/// string or between with two, inclusive.
/// </summary>
public sealed record BankRuleCondition(string? Field, string? Op, JsonElement? Value);

public sealed record BankRuleAction(string? Account, string? Description, string? TaxRate);

public sealed record BankRuleRequest(string? Name, int? Priority, IReadOnlyList<BankRuleCondition?>? Conditions, BankRuleAction? Action);

public sealed record BankRuleResponse(long Id, string Name, int Priority, IReadOnlyList<BankRuleCondition> Conditions, BankRuleAction Action,
    string CreatedAt);

public sealed record ApplyRulesResponse(int Examined, int Matched, IReadOnlyList<long> Lines);

public sealed class BankRuleRequestValidator : AbstractValidator<BankRuleRequest>
{
    public const int MaxConditions = 20;
    private static readonly string[] Fields = ["description", "counterparty", "counterpartyIban", "reference", "amount"];

    public BankRuleRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200);
        RuleFor(x => x.Priority).NotNull().InclusiveBetween(0, 1_000_000);
        RuleFor(x => x.Conditions).NotEmpty().Must(c => c!.Count <= MaxConditions).WithMessage($"A rule has 1 to {MaxConditions} conditions.");
        RuleFor(x => x.Action).NotNull();
        RuleFor(x => x.Action!.Account).NotEmpty().MaximumLength(32).When(x => x.Action is not null).OverridePropertyName("action.account");
        RuleFor(x => x.Action!.Description).MaximumLength(1000).When(x => x.Action is not null).OverridePropertyName("action.description");
        RuleFor(x => x.Action!.TaxRate).MaximumLength(32).When(x => x.Action is not null).OverridePropertyName("action.taxRate");
        RuleForEach(x => x.Conditions).Custom((condition, context) =>
        {
            var path = context.PropertyPath;
            if (condition is null) { context.AddFailure(new FluentValidation.Results.ValidationFailure(path, "must not be null.")); return; }
            if (condition.Field is null || !Fields.Contains(condition.Field))
            {
                context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".field", "must be description, counterparty, counterpartyIban, reference or amount."));
                return;
            }
            var digits = context.RootContextData.TryGetValue(ValidationExtensions.DigitsKey, out var d) && d is int n ? n : 2;
            if (condition.Field == "amount")
            {
                if (condition.Op == "equals")
                {
                    if (TextOf(condition.Value) is not { } text || !new AmountInput(text).Parse(digits).Success)
                        context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".value", "must be an amount written as a decimal string, such as \"-12.50\"."));
                }
                else if (condition.Op == "between")
                {
                    if (condition.Value is not { ValueKind: JsonValueKind.Array } a || a.GetArrayLength() != 2
                        || a.EnumerateArray().Any(e => TextOf(e) is not { } bound || !new AmountInput(bound).Parse(digits).Success))
                        context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".value", "must be two amounts as decimal strings, [low, high]."));
                    else if (Amount.Parse(a[0].GetString(), digits).Value.MinorUnits > Amount.Parse(a[1].GetString(), digits).Value.MinorUnits)
                        context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".value", "must be [low, high] with low not above high."));
                }
                else context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".op", "must be equals or between for amount."));
            }
            else
            {
                if (condition.Op is not ("contains" or "equals" or "startsWith"))
                    context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".op", $"must be contains, equals or startsWith for {condition.Field}."));
                else if (condition.Value is { ValueKind: JsonValueKind.String } && TextOf(condition.Value) is null)
                    context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".value", "must be valid Unicode text (it holds a lone surrogate)."));
                else if (TextOf(condition.Value) is not { Length: >= 1 and <= 200 } text)
                    context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".value", "must be a text of 1 to 200 characters."));
                // The value is a JsonElement, which the request's string converter never sees: refuse control characters here,
                // as every other text field does.
                else if (ControlCharacters.Problem(text) is { } refused)
                    context.AddFailure(new FluentValidation.Results.ValidationFailure(path + ".value", refused));
            }
        });
    }

    /// <summary>A JSON string's text; null when the value is not a string or not valid UTF-16 (a lone surrogate, "\ud800").</summary>
    private static string? TextOf(JsonElement? value)
    {
        if (value is not { ValueKind: JsonValueKind.String } text) return null;
        try { return text.GetString(); }
        catch (InvalidOperationException) { return null; }
    }
}

/// <summary>
/// Bank rules code statement lines nobody matched: when all of a rule's conditions hold, the line is posted against
/// the rule's account (the tax rate splitting out tax). Plain comparisons, no regular expressions, so a rule is cheap
/// to test on every line of a large file. Lower priority numbers are tried first; ties go to the older rule.
/// </summary>
public static class BankRules
{
    public static void MapBankRules(this IEndpointRouteBuilder app)
    {
        var rules = app.MapGroup("/v1/books/{bookId}/bank-rules").RequireBookAccess().ValidateRequests().WithTags("Bank matching");
        rules.MapPost("/", CreateAsync).WithName("createBankRule").WithSummary("Add a bank rule")
            .WithDescription("A rule codes statement lines whose every condition holds to an account, at import and by apply-rules. " +
                             "The account must be able to take the line (not the bank's own, not a control account, not archived).")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        rules.MapGet("/", ListAsync).WithName("listBankRules").WithSummary("List bank rules")
            .WithDescription("The book's rules in the order they are tried (priority, then age).");
        rules.MapGet("/{ruleId:long}", GetAsync).WithName("getBankRule").WithSummary("Get a bank rule")
            .WithDescription("One rule, as created (a deleted rule is 404).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        rules.MapDelete("/{ruleId:long}", DeleteAsync).WithName("deleteBankRule").WithSummary("Delete a bank rule")
            .WithDescription("The rule codes no further lines; what it coded stays (undo those matches one by one).");

        app.MapGroup("/v1/books/{bookId}/bank-accounts").RequireBookAccess().ValidateRequests().WithTags("Bank matching")
            .MapPost("/{id:long}/apply-rules", ApplyAsync).WithName("applyBankRules").WithSummary("Apply the bank rules to unmatched lines")
            .WithDescription("Tries the rules on every unmatched line of the bank account (oldest first, at most 50,000 per call) and answers " +
                             "how many it examined and which it matched.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
    }

    private static async Task<Results<Created<BankRuleResponse>, StoredResponse>> CreateAsync(string bookId, BankRuleRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var options = json.Value.SerializerOptions;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, "create-bank-rule", request, options,
            session =>
            {
                if (ActionProblem(session.Connection, bookId, request.Action!, null) is { } problem) throw new ValidationFailedException(problem.Path, problem.Message);
                var id = session.NextId("bank_rules");
                session.Connection.Execute("""
                    INSERT INTO bank_rules (id, book_id, name, priority, conditions, account, description, tax_rate, created_at, deleted_at)
                    VALUES (@id, @bookId, @name, @priority, @conditions, @account, @description, @taxRate, @createdAt, NULL)
                    """, new
                {
                    id, bookId, name = request.Name, priority = request.Priority, conditions = JsonSerializer.Serialize(request.Conditions, options),
                    account = request.Action!.Account, description = request.Action.Description, taxRate = request.Action.TaxRate,
                    createdAt = Timestamps.Format(session.Now),
                });
                var created = Read(session.Connection, bookId, options).Single(r => r.Id == id);
                EventLog.AppendPayload(session, bookId, "bank_rule.created", "bank_rule", id.ToString(CultureInfo.InvariantCulture), created);
                return created;
            },
            created => $"/v1/books/{bookId}/bank-rules/{created.Id}");
    }

    private static async Task<Ok<BankRuleResponse[]>> ListAsync(string bookId, LedgerDatabase database, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        await using var connection = await database.OpenReadAsync();
        return TypedResults.Ok(Read(connection, bookId, json.Value.SerializerOptions).ToArray());
    }

    // The Location of a created rule; it reads the primary, as the list does, so a rule just created is found.
    private static async Task<Results<Ok<BankRuleResponse>, ProblemHttpResult>> GetAsync(string bookId, long ruleId, LedgerDatabase database,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        await using var connection = await database.OpenReadAsync();
        var rule = Read(connection, bookId, json.Value.SerializerOptions, ruleId).SingleOrDefault();
        return rule is null ? Problems.NotFound($"No bank rule {ruleId} in this book.") : TypedResults.Ok(rule);
    }

    private static async Task<NoContent> DeleteAsync(string bookId, long ruleId, LedgerWriter writer)
    {
        await writer.WriteBookAsync(bookId, session =>
        {
            var deleted = session.Connection.Execute("UPDATE bank_rules SET deleted_at = @at WHERE book_id = @bookId AND id = @ruleId AND deleted_at IS NULL",
                new { at = Timestamps.Format(session.Now), bookId, ruleId });
            if (deleted == 0) throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No bank rule {ruleId} in this book.");
            EventLog.Append(session, bookId, "bank_rule.deleted", "bank_rule", ruleId.ToString(CultureInfo.InvariantCulture), EventData.Of(("id", ruleId)));
            return deleted;
        });
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<ApplyRulesResponse>, StoredResponse>> ApplyAsync(string bookId, long id,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, HttpContext http, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var keyId = http.Caller().KeyId;
        var options = json.Value.SerializerOptions;
        var outcome = await writer.WriteIdempotentAsync(bookId, idempotencyKey, () => Idempotency.Fingerprint($"apply-rules/{id}", id, options),
            session =>
            {
                var account = BankAccountsEndpoints.Find(session.Connection, bookId, id);
                var lines = session.Connection.Query<StoredStatementLine>(StatementMatching.SelectLineSql +
                    " WHERE l.book_id = @bookId AND l.bank_account_id = @id AND l.status = 'unmatched' ORDER BY l.booking_date, l.id LIMIT 50000",
                    new { bookId, id }).AsList();
                var warnings = new List<string>();
                var coded = CodeNewLines(session, book, account, lines, new StatementImportEndpoints.ImportSettings(false, true, keyId), warnings);
                return new ApplyRulesResponse(lines.Count, coded.ByRules, coded.Matched.Order().ToList());
            },
            result => new StoredResponse(StatusCodes.Status200OK, null, JsonSerializer.Serialize(result, options)));
        return outcome.Replayed is { } replay ? replay : TypedResults.Ok(outcome.Fresh!);
    }

    public sealed record CodingOutcome(int AutoMatched, int ByRules, HashSet<long> Matched);

    /// <summary>
    /// Auto-matches, then codes by rule, the given unmatched lines of one bank account. Lines the books cannot take now
    /// (dated on or before the lock date, on an archived account) are left unmatched with a warning, never refused:
    /// the import they arrive with still stands.
    /// </summary>
    public static CodingOutcome CodeNewLines(WriteSession session, BookIdentity book, StoredBankAccount account, IReadOnlyList<StoredStatementLine> lines,
        StatementImportEndpoints.ImportSettings settings, List<string> warnings)
    {
        var matched = new HashSet<long>();
        var connection = session.Connection;
        if (lines.Count == 0) return new CodingOutcome(0, 0, matched);
        var glArchived = connection.ExecuteScalar<long>("SELECT archived FROM accounts WHERE book_id = @bookId AND code = @code",
            new { bookId = book.Id, code = account.Account }) != 0;
        if (glArchived)
        {
            warnings.Add($"Account '{account.Account}' is archived: no line was matched or coded.");
            return new CodingOutcome(0, 0, matched);
        }
        var lockDate = connection.ExecuteScalar<string?>("SELECT lock_date FROM books WHERE id = @bookId", new { bookId = book.Id });
        var open = lines.Where(l => l.Amount != 0 && (lockDate is null || string.CompareOrdinal(l.BookingDate, lockDate) > 0)).ToList();
        var locked = lines.Count(l => l.Amount != 0) - open.Count;
        if (locked > 0)
            warnings.Add(locked == 1
                ? $"1 line is dated on or before the lock date ({lockDate}) and was left unmatched."
                : $"{locked} lines are dated on or before the lock date ({lockDate}) and were left unmatched.");

        var autoMatched = 0;
        if (settings.AutoMatch)
        {
            var documents = OpenDocuments.Read(connection, book.Id);
            foreach (var line in open)
            {
                if (documents.NamedBy(line) is not { } document || document.Open != Math.Abs(line.Amount)) continue;
                StatementMatching.MatchDocuments(session, book, line, [(document.Id, document.Open)], StatementMatching.ByAutoMatch);
                document.Open = 0;
                matched.Add(line.Id);
                autoMatched++;
            }
        }

        var byRules = 0;
        if (settings.ApplyRules)
        {
            var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
            var rules = new List<(long Id, string Name, Func<StoredStatementLine, bool> Holds, AccountCoding Coding)>();
            foreach (var rule in connection.Query<StoredRule>(SelectRulesSql, new { bookId = book.Id }))
            {
                var coding = new AccountCoding(rule.Account, rule.Description, rule.TaxRate);
                if (ActionProblem(connection, book.Id, new BankRuleAction(rule.Account, rule.Description, rule.TaxRate), account.Account) is { } problem)
                {
                    warnings.Add($"Bank rule {rule.Id} ('{rule.Name}') was skipped: {problem.Path} {problem.Message}");
                    continue;
                }
                var conditions = JsonSerializer.Deserialize<List<BankRuleCondition>>(rule.Conditions, options)!;
                var tests = conditions.Select(c => Compile(c, book.Digits)).ToArray();
                rules.Add((rule.Id, rule.Name, line => tests.All(test => test(line)), coding));
            }
            if (rules.Count > 0)
                foreach (var line in open)
                {
                    if (matched.Contains(line.Id)) continue;
                    foreach (var rule in rules)
                    {
                        if (!rule.Holds(line)) continue;
                        StatementMatching.MatchAccount(session, book, line, rule.Coding, rule.Id, StatementMatching.ByRule);
                        matched.Add(line.Id);
                        byRules++;
                        break;
                    }
                }
        }
        return new CodingOutcome(autoMatched, byRules, matched);
    }

    /// <summary>
    /// One condition as a test of a line (text comparisons ignore case; amounts are signed). Amounts and texts are read
    /// once per rule here, not once per line: a rule runs against every line of a 50,000-line import.
    /// </summary>
    private static Func<StoredStatementLine, bool> Compile(BankRuleCondition condition, int digits)
    {
        var value = condition.Value!.Value;
        if (condition.Field == "amount")
        {
            if (condition.Op == "equals")
            {
                var amount = Amount.Parse(value.GetString(), digits).Value.MinorUnits;
                return line => line.Amount == amount;
            }
            var low = Amount.Parse(value[0].GetString(), digits).Value.MinorUnits;
            var high = Amount.Parse(value[1].GetString(), digits).Value.MinorUnits;
            return line => line.Amount >= low && line.Amount <= high;
        }
        Func<StoredStatementLine, string?> field = condition.Field switch
        {
            "description" => line => line.Description,
            "counterparty" => line => line.Counterparty,
            "counterpartyIban" => line => line.CounterpartyIban?.Replace(" ", "", StringComparison.Ordinal),
            "reference" => line => line.BankReference,
            _ => _ => null,
        };
        var wanted = value.GetString()!;
        if (condition.Field == "counterpartyIban") wanted = wanted.Replace(" ", "", StringComparison.Ordinal);
        Func<string, bool> compare = condition.Op switch
        {
            "contains" => text => text.Contains(wanted, StringComparison.OrdinalIgnoreCase),
            "equals" => text => text.Equals(wanted, StringComparison.OrdinalIgnoreCase),
            "startsWith" => text => text.StartsWith(wanted, StringComparison.OrdinalIgnoreCase),
            _ => _ => false,
        };
        return line => field(line) is { } text && compare(text);
    }

    public sealed record ActionRefusal(string Path, string Message);

    /// <summary>Why the books would refuse the rule's action, or null: checked when the rule is made and again before it is used.</summary>
    private static ActionRefusal? ActionProblem(DbConnection connection, string bookId, BankRuleAction action, string? bankAccount)
    {
        var account = connection.QuerySingleOrDefault<(string Type, long Archived)?>(
            "SELECT type, archived FROM accounts WHERE book_id = @bookId AND code = @code", new { bookId, code = action.Account });
        if (account is null) return new("action.account", $"No account '{action.Account}' in this book.");
        if (account.Value.Archived != 0) return new("action.account", $"Account '{action.Account}' is archived.");
        if (ControlAccounts.Read(connection, bookId).Contains(action.Account))
            return new("action.account", "must not be a receivables or payables control account (match the line to documents instead).");
        if (action.Account == bankAccount) return new("action.account", "must be another account than the bank's own.");
        if (action.TaxRate is { } code)
        {
            var rate = connection.QuerySingleOrDefault<(long Archived, string Sales, string Purchase)?>(
                "SELECT archived, sales_account, purchase_account FROM tax_rates WHERE book_id = @bookId AND code = @code", new { bookId, code });
            if (rate is null) return new("action.taxRate", $"No tax rate '{code}' in this book.");
            if (rate.Value.Archived != 0) return new("action.taxRate", $"Tax rate '{code}' is archived.");
            // The tax lines post to the rate's accounts: they must take postings too, or coding a line would be refused mid-import.
            foreach (var taxAccount in new[] { rate.Value.Sales, rate.Value.Purchase })
                if (connection.QuerySingleOrDefault<long?>("SELECT archived FROM accounts WHERE book_id = @bookId AND code = @code",
                        new { bookId, code = taxAccount }) is not 0L)
                    return new("action.taxRate", $"Tax rate '{code}' posts to account '{taxAccount}', which is archived or missing.");
        }
        return null;
    }

    private static IEnumerable<BankRuleResponse> Read(DbConnection connection, string bookId, JsonSerializerOptions options, long? ruleId = null) =>
        connection.Query<StoredRule>(ruleId is null ? SelectRulesSql : SelectRuleSql, new { bookId, ruleId }).Select(r => new BankRuleResponse(r.Id, r.Name, (int)r.Priority,
            JsonSerializer.Deserialize<List<BankRuleCondition>>(r.Conditions, options)!, new BankRuleAction(r.Account, r.Description, r.TaxRate), r.CreatedAt));

    private sealed record StoredRule(long Id, string Name, long Priority, string Conditions, string Account, string? Description, string? TaxRate, string CreatedAt);

    // The book's rules that are not deleted: in the order they are tried, or one by its id.
    private const string SelectLiveRulesSql = """
        SELECT id AS Id, name AS Name, priority AS Priority, conditions AS Conditions, account AS Account, description AS Description,
               tax_rate AS TaxRate, created_at AS CreatedAt
        FROM bank_rules WHERE book_id = @bookId AND deleted_at IS NULL
        """;

    private const string SelectRulesSql = SelectLiveRulesSql + " ORDER BY priority, id";

    private const string SelectRuleSql = SelectLiveRulesSql + " AND id = @ruleId";
}

/// <summary>
/// The book's issued invoices and bills with something open, found by the numbers and references a statement text names.
/// Read once per import, so auto-matching a large file costs one query, not one per line.
/// </summary>
public sealed class OpenDocuments
{
    public sealed class Document(long id, string kind, long partyId, string number, string? reference, long open)
    {
        public long Id { get; } = id;
        public string Kind { get; } = kind;
        public long PartyId { get; } = partyId;
        public string Number { get; } = number;
        public string? Reference { get; } = reference;
        public long Open { get; set; } = open;
    }

    private readonly Dictionary<string, List<Document>> _byToken = new(StringComparer.OrdinalIgnoreCase);

    public static OpenDocuments Read(DbConnection connection, string bookId)
    {
        var documents = new OpenDocuments();
        foreach (var row in connection.Query<(long Id, string Kind, long PartyId, string Number, string? Reference, string? VendorReference, long Amount, long Allocated)>($"""
                     SELECT d.id, d.kind, d.party_id, d.number, d.reference, d.vendor_reference, o.amount,
                            {OpenItemAllocations.AllocatedOnItemSql}
                     FROM documents d JOIN open_items o ON o.book_id = d.book_id AND o.source_type = d.kind AND o.source_id = d.id
                     WHERE d.book_id = @bookId AND d.status = 'issued' AND d.kind IN ('invoice', 'bill')
                     """, new { bookId }))
        {
            var open = Math.Abs(row.Amount) - row.Allocated;
            if (open <= 0) continue;
            var document = new Document(row.Id, row.Kind, row.PartyId, row.Number, row.Reference, open);
            documents.Add(row.Number, document);
            // References shorter than 4 characters ("1", "AB") would be found in too many texts to name anything.
            if (row.Reference is { Length: >= 4 } reference) documents.Add(reference, document);
            // A bill is paid under the vendor's own number, which is what its direct debit or transfer text carries.
            if (row.VendorReference is { Length: >= 4 } vendorReference) documents.Add(vendorReference, document);
        }
        return documents;
    }

    private void Add(string token, Document document)
    {
        foreach (var key in new[] { token, token.Replace("-", "", StringComparison.Ordinal) }.Distinct())
        {
            if (!_byToken.TryGetValue(key, out var list)) _byToken[key] = list = [];
            if (!list.Contains(document)) list.Add(document);
        }
    }

    /// <summary>The one invoice (money in) or bill (money out) the line's text names, or null when it names none or several; the caller checks what is still open on it.</summary>
    public Document? NamedBy(StoredStatementLine line)
    {
        var kind = line.Amount > 0 ? "invoice" : "bill";
        Document? found = null;
        foreach (var token in Tokens(line.Description + " " + line.BankReference))
        {
            if (!_byToken.TryGetValue(token, out var documents)) continue;
            foreach (var document in documents)
            {
                // Counted even when this import already settled it: a text naming two documents is ambiguous either way.
                if (document.Kind != kind) continue;
                if (found is not null && found != document) return null;
                found = document;
            }
        }
        return found;
    }

    /// <summary>Words of a text as document numbers and references are written: letters, digits, '-', '/', '_' and '.'.</summary>
    public static IEnumerable<string> Tokens(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inside = i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '-' or '/' or '_' or '.');
            if (inside && start < 0) start = i;
            else if (!inside && start >= 0)
            {
                var token = text[start..i].Trim('.', '-', '/', '_');
                if (token.Length > 0)
                {
                    yield return token;
                    var bare = token.Replace("-", "", StringComparison.Ordinal);
                    if (bare != token) yield return bare;
                }
                start = -1;
            }
        }
    }
}
