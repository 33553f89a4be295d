using FluentValidation;
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

public sealed class JournalLineRequestValidator : AbstractValidator<JournalLineRequest>
{
    public JournalLineRequestValidator()
    {
        RuleFor(x => x.Account).NotEmpty().MaximumLength(32);
        RuleFor(x => x.Debit).NotNull().When(x => x.Credit is null)
            .WithMessage("A line needs exactly one of debit or credit.");
        RuleFor(x => x.Credit).Null().When(x => x.Debit is not null)
            .WithMessage("A line has exactly one of debit or credit, not both.");
        RuleFor(x => x.Debit).Custom(BePositiveAmount);
        RuleFor(x => x.Credit).Custom(BePositiveAmount);
        RuleFor(x => x.Description).MaximumLength(1000);
    }

    private static void BePositiveAmount(AmountInput? amount, ValidationContext<JournalLineRequest> context)
    {
        if (amount is null) return;
        var parsed = Amount.Parse(amount.Value.Text, context.BookDigits());
        if (!parsed.Success) context.AddFailure(parsed.Error!);
        else if (!parsed.Value.IsPositive) context.AddFailure("must be greater than zero.");
    }
}

public sealed class PostJournalEntryRequestValidator : AbstractValidator<PostJournalEntryRequest>
{
    public const int MaxLines = 1000;

    public PostJournalEntryRequestValidator(IValidator<JournalLineRequest> lineValidator)
    {
        RuleFor(x => x.Date).NotEmpty().Must(d => DateText.TryParseDate(d, out _))
            .WithMessage("must be a calendar date written YYYY-MM-DD.");
        RuleFor(x => x.Description).NotEmpty().MaximumLength(1000);
        RuleFor(x => x.Reference).MaximumLength(255);
        RuleFor(x => x.Lines).NotNull().WithMessage("A journal entry needs lines.")
            .Must(lines => lines!.Count <= MaxLines).When(x => x.Lines is not null, ApplyConditionTo.CurrentValidator)
            .WithMessage($"A journal entry has at most {MaxLines} lines.");
        RuleForEach(x => x.Lines).NotNull().SetValidator(lineValidator!);
        // The double-entry rules proper (two lines, balanced) run once every line is well formed,
        // so an unbalanced entry is reported only when the amounts themselves could be read.
        RuleFor(x => x.Lines).Custom(ObeyDoubleEntry).When(x => x.Lines is { Count: <= MaxLines });
    }

    private static void ObeyDoubleEntry(IReadOnlyList<JournalLineRequest?>? lines, ValidationContext<PostJournalEntryRequest> context)
    {
        if (lines is null) return;
        var postings = JournalRequestMapping.TryToPostings(lines, context.BookDigits());
        if (postings is null) return;
        var prefix = context.PropertyPath.EndsWith("lines", StringComparison.Ordinal) ? context.PropertyPath[..^"lines".Length] : "";
        foreach (var violation in JournalEntryRules.Check(postings, prefix))
            context.AddFailure(new ValidationFailure(violation.Path, violation.Message));
    }
}

public sealed class PostJournalEntryBatchRequestValidator : AbstractValidator<PostJournalEntryBatchRequest>
{
    public const int MaxEntries = 10_000;

    public PostJournalEntryBatchRequestValidator(IValidator<PostJournalEntryRequest> entryValidator)
    {
        RuleFor(x => x.Entries).NotNull().WithMessage("A batch needs entries.")
            .Must(e => e!.Count is >= 1 and <= MaxEntries).When(x => x.Entries is not null, ApplyConditionTo.CurrentValidator)
            .WithMessage($"A batch holds from 1 to {MaxEntries} entries.");
        RuleForEach(x => x.Entries).NotNull().SetValidator(entryValidator!).When(x => x.Entries is { Count: <= MaxEntries });
    }
}

public sealed class ReverseJournalEntryRequestValidator : AbstractValidator<ReverseJournalEntryRequest>
{
    public ReverseJournalEntryRequestValidator()
    {
        RuleFor(x => x.Date).Must(d => DateText.TryParseDate(d, out _)).When(x => x.Date is not null)
            .WithMessage("must be a calendar date written YYYY-MM-DD.");
        RuleFor(x => x.Description).MaximumLength(1000);
    }
}

/// <summary>An entry ready to post: validated in shape, not yet checked against the book's accounts.</summary>
public sealed record EntryDraft(
    LocalDate Date,
    string Description,
    string? Reference,
    IReadOnlyList<Posting> Lines,
    long? ReversalOf = null,
    bool IsClosing = false);

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
            var parsed = Amount.Parse((line.Debit ?? line.Credit)!.Value.Text, digits);
            if (!parsed.Success) return null;
            postings.Add(new Posting(line.Account, side, parsed.Value, line.Description));
        }
        return postings;
    }

    /// <summary>Maps a request that passed its validator.</summary>
    public static EntryDraft ToDraft(this PostJournalEntryRequest request, int digits)
    {
        DateText.TryParseDate(request.Date, out var date);
        var postings = TryToPostings(request.Lines!, digits)
            ?? throw new InvalidOperationException("ToDraft called on a request that did not pass validation.");
        return new EntryDraft(date, request.Description!, request.Reference, postings);
    }
}
