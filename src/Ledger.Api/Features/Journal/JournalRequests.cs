using FluentValidation;
using Ledger.Api.Features.Reports;
using Microsoft.AspNetCore.Mvc;
using FluentValidation.Results;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using NodaTime;

namespace Ledger.Api.Features.Journal;

// Request records use init properties rather than constructor parameters: System.Text.Json must buffer a whole
// object before calling a constructor, which for a 10,000-entry batch means holding megabytes of JSON at once;
// with properties it streams.
public sealed record PostJournalEntryRequest
{
    public string? Date { get; init; }
    public string? Description { get; init; }
    public string? Reference { get; init; }
    public IReadOnlyList<JournalLineRequest?>? Lines { get; init; }
}

public sealed record JournalLineRequest
{
    public string? Account { get; init; }
    public AmountInput? Debit { get; init; }
    public AmountInput? Credit { get; init; }
    public string? Description { get; init; }

    /// <summary>The customer (by id) a line on the receivables control account is owed by.</summary>
    public long? Customer { get; init; }

    /// <summary>The vendor (by id) a line on the payables control account is owed to.</summary>
    public long? Vendor { get; init; }
}

public sealed record ReverseJournalEntryRequest
{
    public string? Date { get; init; }
    public string? Description { get; init; }
}

public sealed record PostJournalEntryBatchRequest
{
    public IReadOnlyList<PostJournalEntryRequest?>? Entries { get; init; }
}

/// <summary>
/// The shape rules of one journal entry as it arrives — date, texts, lines with exactly one positive amount in the
/// book's digits — then the double-entry rules proper once every line is readable. Written as one pass rather than
/// a rule per field so that a 10,000-entry batch is checked without allocating a validation context per field.
/// </summary>
public static class JournalEntryShape
{
    public const int MaxLines = 1000;
    public const int MaxAccountCode = 32;
    public const int MaxText = 1000;
    public const int MaxReference = 255;

    /// <summary>Adds to <paramref name="failures"/> every rule <paramref name="entry"/> breaks, under <paramref name="prefix"/>.</summary>
    public static void Check(PostJournalEntryRequest entry, int digits, string prefix, ICollection<ValidationFailure> failures)
    {
        void Fail(string field, string message) => failures.Add(new ValidationFailure(prefix + field, message));

        if (string.IsNullOrEmpty(entry.Date)) Fail("date", "'date' must not be empty.");
        else if (!DateText.TryParseDate(entry.Date, out _)) Fail("date", "must be a calendar date written YYYY-MM-DD.");
        if (string.IsNullOrWhiteSpace(entry.Description)) Fail("description", "'description' must not be empty.");
        else if (entry.Description.Length > MaxText) Fail("description", $"must be at most {MaxText} characters.");
        if (entry.Reference is { Length: > MaxReference }) Fail("reference", $"must be at most {MaxReference} characters.");

        if (entry.Lines is not { } lines)
        {
            Fail("lines", "A journal entry needs lines.");
            return;
        }
        if (lines.Count > MaxLines)
        {
            Fail("lines", $"A journal entry has at most {MaxLines} lines.");
            return;
        }

        var readable = true;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line is null)
            {
                Fail($"lines[{i}]", $"'lines[{i}]' must not be null.");
                readable = false;
                continue;
            }
            if (string.IsNullOrEmpty(line.Account)) { Fail($"lines[{i}].account", "'account' must not be empty."); readable = false; }
            else if (line.Account.Length > MaxAccountCode) Fail($"lines[{i}].account", $"must be at most {MaxAccountCode} characters.");
            if (line.Debit is null && line.Credit is null) { Fail($"lines[{i}].debit", "A line needs exactly one of debit or credit."); readable = false; }
            if (line.Debit is not null && line.Credit is not null) { Fail($"lines[{i}].credit", "A line has exactly one of debit or credit, not both."); readable = false; }
            readable &= CheckAmount(line.Debit, i, "debit") & CheckAmount(line.Credit, i, "credit");
            if (line.Description is { Length: > MaxText }) Fail($"lines[{i}].description", $"must be at most {MaxText} characters.");
            if (line.Customer is not null && line.Vendor is not null) Fail($"lines[{i}].vendor", "A line names a customer or a vendor, not both.");
        }

        // The double-entry rules proper (two lines, balanced) run once every line is well formed,
        // so an unbalanced entry is reported only when the amounts themselves could be read.
        if (!readable || JournalRequestMapping.TryToPostings(lines, digits) is not { } postings) return;
        foreach (var violation in JournalEntryRules.Check(postings, prefix))
            failures.Add(new ValidationFailure(violation.Path, violation.Message));

        bool CheckAmount(AmountInput? amount, int line, string side)
        {
            if (amount is null) return true;
            var parsed = amount.Value.Parse(digits);
            if (!parsed.Success) Fail($"lines[{line}].{side}", parsed.Error!);
            else if (!parsed.Value.IsPositive) Fail($"lines[{line}].{side}", "must be greater than zero.");
            return parsed.Success && parsed.Value.IsPositive;
        }
    }
}

public sealed class PostJournalEntryRequestValidator : AbstractValidator<PostJournalEntryRequest>
{
    public PostJournalEntryRequestValidator() =>
        RuleFor(x => x).Custom((entry, context) =>
        {
            var failures = new List<ValidationFailure>();
            JournalEntryShape.Check(entry, context.BookDigits(), "", failures);
            failures.ForEach(context.AddFailure);
        });
}

public sealed class PostJournalEntryBatchRequestValidator : AbstractValidator<PostJournalEntryBatchRequest>
{
    public const int MaxEntries = 10_000;

    public PostJournalEntryBatchRequestValidator()
    {
        RuleFor(x => x.Entries).NotNull().WithMessage("A batch needs entries.")
            .Must(e => e!.Count is >= 1 and <= MaxEntries).When(x => x.Entries is not null, ApplyConditionTo.CurrentValidator)
            .WithMessage($"A batch holds from 1 to {MaxEntries} entries.");
        RuleFor(x => x.Entries).Custom((entries, context) =>
        {
            var failures = new List<ValidationFailure>();
            for (var i = 0; i < entries!.Count; i++)
            {
                if (entries[i] is { } entry) JournalEntryShape.Check(entry, context.BookDigits(), $"entries[{i}].", failures);
                else failures.Add(new ValidationFailure($"entries[{i}]", $"'entries[{i}]' must not be null."));
            }
            failures.ForEach(context.AddFailure);
        }).When(x => x.Entries is { Count: >= 1 and <= MaxEntries });
    }
}

public sealed class ReverseJournalEntryRequestValidator : AbstractValidator<ReverseJournalEntryRequest>
{
    public ReverseJournalEntryRequestValidator()
    {
        RuleFor(x => x.Date).Must(d => DateText.TryParseDate(d, out _)).When(x => x.Date is not null)
            .WithMessage("must be a calendar date written YYYY-MM-DD.");
        // Left out, the reversal describes itself; given, it must say something, as on any entry.
        RuleFor(x => x.Description).NotEmpty().When(x => x.Description is not null).MaximumLength(1000);
    }
}

public static class JournalRequestMapping
{
    /// <summary>The postings of well-formed lines, or null when any line is not (its own rules report why).</summary>
    public static IReadOnlyList<Posting>? TryToPostings(IReadOnlyList<JournalLineRequest?> lines, int digits)
    {
        var postings = new List<Posting>(lines.Count);
        foreach (var line in lines)
        {
            if (line is null || string.IsNullOrEmpty(line.Account) || (line.Debit is null) == (line.Credit is null)) return null;
            var side = line.Debit is not null ? Side.Debit : Side.Credit;
            var parsed = (line.Debit ?? line.Credit)!.Value.Parse(digits);
            if (!parsed.Success) return null;
            PartyRef? party = line.Customer is { } customer ? new PartyRef(PartyKind.Customer, customer)
                : line.Vendor is { } vendor ? new PartyRef(PartyKind.Vendor, vendor) : null;
            postings.Add(new Posting(line.Account, side, parsed.Value, line.Description, party));
        }
        return postings;
    }

    /// <summary>Maps a request that passed its validator to the balanced entry it describes.</summary>
    public static BalancedEntry ToEntry(this PostJournalEntryRequest request, int digits)
    {
        DateText.TryParseDate(request.Date, out var date);
        var postings = TryToPostings(request.Lines!, digits)
            ?? throw new InvalidOperationException("ToEntry called on a request that did not pass validation.");
        return BalancedEntry.Create(date, request.Description!, request.Reference, postings);
    }
}

/// <summary>Query of the journal-entry list: optional filters and a page.</summary>
public sealed record JournalEntryListQuery(
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "account")] string? Account,
    [property: FromQuery(Name = "reference")] string? Reference,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

public sealed class JournalEntryListQueryValidator : AbstractValidator<JournalEntryListQuery>
{
    public JournalEntryListQueryValidator()
    {
        RuleFor(x => x.From).IsDate().IsNotAfter(x => x.To, "to");
        RuleFor(x => x.To).IsDate();
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).Must(c => c is null || Cursor.TryDecode(c, out _)).WithMessage("is not a cursor this API returned.");
    }
}
