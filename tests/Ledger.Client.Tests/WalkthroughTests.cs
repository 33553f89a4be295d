using System.Globalization;
using System.Text.Json;
using Ledger.Client.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace Ledger.Client.Tests;

/// <summary>
/// The README walkthrough, every step through the client that the build generates from openapi/ledger.json, against
/// the real API process: a book with the standard chart, an account, the account list, an idempotent post and its
/// replay, the trial balance, and a validation error read as a problem.
/// </summary>
[Trait("Category", "Client")]
public sealed class WalkthroughTests(LedgerApiServer server) : IClassFixture<LedgerApiServer>
{
    private LedgerClient Client => server.Client;

    // The receivable names its customer: every line on the receivables control account (1200) is that customer's open item.
    private static PostJournalEntryRequest Invoice1001(long customer) => new()
    {
        Date = "2026-01-15",
        Description = "Invoice 1001",
        Reference = "INV-1001",
        Lines =
        [
            new JournalLineRequest { Account = "1200", Debit = new() { String = "1250.00" }, Customer = customer },
            // The document lets an amount be a string or a JSON number; Kiota types the number as decimal, never double.
            new JournalLineRequest { Account = "4000", Credit = new() { Decimal = 1250.00m } },
        ],
    };

    [Fact]
    public async Task The_readme_walkthrough_runs_through_the_generated_client()
    {
        // A book in euros, seeded with the standard chart (the admin key creates books).
        var book = await Client.V1.Books.PostAsync(new CreateBookRequest { Name = "Acme Ltd", Currency = "EUR", Chart = "standard" });
        Assert.NotNull(book);
        Assert.False(string.IsNullOrEmpty(book.Id));
        Assert.Equal("Acme Ltd", book.Name);
        Assert.Equal("EUR", book.Currency);
        Assert.Equal(2, book.CurrencyDigits);
        var books = Client.V1.Books[book.Id];

        // One more account, under Bank.
        var savings = await books.Accounts.PostAsync(new CreateAccountRequest { Code = "1020", Name = "Savings", Type = "asset", Parent = "1010" });
        Assert.NotNull(savings);
        Assert.Equal(("1020", "Savings", "asset", "1010"), (savings.Code, savings.Name, savings.Type, savings.Parent));
        Assert.Equal("0.00", savings.Balance);

        // The list: the standard chart (all five types) and the new account.
        var accounts = await books.Accounts.GetAsync();
        Assert.NotNull(accounts);
        var codes = accounts.Select(a => a.Code).ToList();
        Assert.Contains("1020", codes);
        Assert.Contains("1200", codes);
        Assert.Contains("4000", codes);
        Assert.Equal(["asset", "equity", "expense", "income", "liability"], accounts.Select(a => a.Type).Distinct().Order(StringComparer.Ordinal));

        // A customer (its code generated), whom the receivable below names.
        var customer = await books.Customers.PostAsync(new CreatePartyRequest { Name = "Globex GmbH", Email = "ap@globex.example" });
        Assert.NotNull(customer?.Id);
        Assert.Equal("C00001", customer.Code);

        // Post with an Idempotency-Key (a header parameter: Kiota sets it through the request configuration).
        var first = new HeadersInspectionHandlerOption { InspectResponseHeaders = true };
        var posted = await books.JournalEntries.PostAsync(Invoice1001(customer.Id.Value), c =>
        {
            c.Headers.Add("Idempotency-Key", "inv-1001");
            c.Options.Add(first);
        });
        Assert.NotNull(posted);
        Assert.Equal(1, posted.Number);
        Assert.Equal("2026-01-15", posted.Date);
        Assert.Equal("INV-1001", posted.Reference);
        Assert.False(posted.ClosingEntry);
        Assert.Null(posted.ReversalOf);
        Assert.NotNull(posted.Lines);
        Assert.Collection(posted.Lines,
            line => Assert.Equal(("1200", "1250.00", (string?)null, customer.Id), (line.Account, line.Debit, line.Credit, line.Customer)),
            line => Assert.Equal(("4000", (string?)null, "1250.00"), (line.Account, line.Debit, line.Credit)));
        Assert.False(first.ResponseHeaders.ContainsKey("Idempotency-Replayed"));

        // The same key and body again: the same entry answered again, marked as a replay, nothing written twice.
        var again = new HeadersInspectionHandlerOption { InspectResponseHeaders = true };
        var replayed = await books.JournalEntries.PostAsync(Invoice1001(customer.Id.Value), c =>
        {
            c.Headers.Add("Idempotency-Key", "inv-1001");
            c.Options.Add(again);
        });
        Assert.NotNull(replayed);
        Assert.Equal((posted.Id, posted.Number, posted.CreatedAt), (replayed.Id, replayed.Number, replayed.CreatedAt));
        Assert.True(again.ResponseHeaders.TryGetValue("Idempotency-Replayed", out var replayedHeader), "no Idempotency-Replayed header");
        Assert.Equal(["true"], replayedHeader);

        var journal = await books.JournalEntries.GetAsync();
        Assert.NotNull(journal?.Items);
        var only = Assert.Single(journal.Items);
        Assert.Equal(posted.Id, only.Id);
        Assert.Null(journal.NextCursor);

        var receivable = await books.Accounts["1200"].GetAsync();
        Assert.Equal(("1250.00", "0.00", "1250.00"), (receivable?.DebitTotal, receivable?.CreditTotal, receivable?.Balance));

        // The trial balance ties out: debits equal credits, and the lines are the posted amounts.
        var trialBalance = await books.Reports.TrialBalance.GetAsync(c => c.QueryParameters.AsOf = "2026-01-31");
        Assert.NotNull(trialBalance?.Lines);
        Assert.NotNull(trialBalance.Totals);
        Assert.Equal(("2026-01-31", "EUR"), (trialBalance.AsOf, trialBalance.Currency));
        Assert.Collection(trialBalance.Lines,
            line => Assert.Equal(("1200", "Accounts Receivable", "asset", "1250.00", "0.00"), (line.Account, line.Name, line.Type, line.Debit, line.Credit)),
            line => Assert.Equal(("4000", "Sales", "income", "0.00", "1250.00"), (line.Account, line.Name, line.Type, line.Debit, line.Credit)));
        Assert.Equal(("1250.00", "1250.00"), (trialBalance.Totals.Debit, trialBalance.Totals.Credit));
        Assert.Equal(Amount(trialBalance.Totals.Debit), Amount(trialBalance.Totals.Credit));
        Assert.Equal(Amount(trialBalance.Totals.Debit), trialBalance.Lines.Sum(line => Amount(line.Debit)));
        Assert.Equal(Amount(trialBalance.Totals.Credit), trialBalance.Lines.Sum(line => Amount(line.Credit)));
    }

    [Fact]
    public async Task A_validation_error_reads_as_a_problem_with_errors_keyed_by_json_path()
    {
        var book = await Client.V1.Books.PostAsync(new CreateBookRequest { Name = "Problems Ltd", Currency = "EUR", Chart = "standard" });
        var entries = Client.V1.Books[book!.Id].JournalEntries;

        // Unbalanced: the rule is about the lines as a whole, so the key is "lines".
        var unbalanced = await ProblemOf(() => entries.PostAsync(new PostJournalEntryRequest
        {
            Date = "2026-01-15",
            Description = "Unbalanced",
            Lines =
            [
                new JournalLineRequest { Account = "1010", Debit = new() { String = "10.00" } },
                new JournalLineRequest { Account = "4000", Credit = new() { String = "9.99" } },
            ],
        }, c => c.Headers.Add("Idempotency-Key", "unbalanced-1")));
        Assert.Equal(400, unbalanced.HttpStatus);
        Assert.Equal(400, unbalanced.Status);
        Assert.False(string.IsNullOrEmpty(unbalanced.Title));
        Assert.Equal(["lines"], unbalanced.Errors.Keys);
        Assert.NotEmpty(unbalanced.Errors["lines"]);

        // Field errors are keyed by the JSON path of each field.
        var fields = await ProblemOf(() => entries.PostAsync(new PostJournalEntryRequest
        {
            Date = "15/01/2026",
            Description = "Bad fields",
            Lines =
            [
                new JournalLineRequest { Account = "1010", Debit = new() { String = "10.001" } },
                new JournalLineRequest { Account = "4000", Credit = new() { String = "10.00" } },
            ],
        }));
        Assert.Equal(400, fields.Status);
        Assert.Contains("date", fields.Errors.Keys);
        Assert.Contains("lines[0].debit", fields.Errors.Keys);

        // Nothing was written.
        var journal = await entries.GetAsync();
        Assert.Empty(journal!.Items!);
    }

    /// <summary>An amount as the exact decimal its JSON string spells: never binary floating point.</summary>
    private static decimal Amount(string? text) =>
        decimal.Parse(text ?? throw new ArgumentNullException(nameof(text)), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private sealed record Problem(string ErrorType, int HttpStatus, int? Status, string? Title, IReadOnlyDictionary<string, string[]> Errors);

    /// <summary>
    /// The problem a call failed with, as the generated client read it. Kiota throws the error type that the document
    /// declares for the status (a generated model deriving from ApiException); a bare ApiException means the document
    /// declares none, and the body was not read. Which generated type it is (HttpValidationProblemDetails, ProblemDetails,
    /// or a renamed one) is left open: the model is written back to JSON by Kiota's own serializer, so <c>errors</c> is
    /// found whether the document types it or it arrives as additional data.
    /// </summary>
    private async Task<Problem> ProblemOf(Func<Task> call)
    {
        var exception = await Assert.ThrowsAnyAsync<ApiException>(call);
        var model = exception as IParsable;
        Assert.True(model is not null,
            $"The {exception.ResponseStatusCode} answer came back as a bare {exception.GetType().Name}: the document declares no problem "
            + $"schema for that status, so the client did not read the body. The server's log:\n{server.ServerLog}");
        using var json = JsonDocument.Parse(await KiotaJsonSerializer.SerializeAsStringAsync(model, serializeOnlyChangedValues: false));
        var root = json.RootElement;
        var errors = root.TryGetProperty("errors", out var errorsElement) && errorsElement.ValueKind == JsonValueKind.Object
            ? errorsElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(m => m.GetString()!).ToArray())
            : new Dictionary<string, string[]>();
        return new Problem(
            exception.GetType().FullName!,
            exception.ResponseStatusCode,
            root.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Number ? status.GetInt32() : null,
            root.TryGetProperty("title", out var title) ? title.GetString() : null,
            errors);
    }
}
