using FluentValidation;
using Ledger.Domain;

namespace Ledger.Api.Features.Periods;

/// <summary>
/// The new lock date; an explicit null clears it, which only an admin may do. Required: a body that forgets the field
/// must not silently reopen every period.
/// </summary>
public sealed record SetLockDateRequest([property: System.Text.Json.Serialization.JsonRequired] string? Date);

public sealed record YearEndCloseRequest(string? FiscalYearEnd);

/// <summary>The lock date and who set it last.</summary>
public sealed record LockDateResponse(string? LockDate, string? ChangedAt, string? ChangedBy);

/// <summary>One change of the lock date: who (the API key id), when, from what to what, and whether by hand or by a year-end close.</summary>
public sealed record LockDateChangeResponse(string? From, string? To, string ChangedAt, string ChangedBy, string Source);

public sealed record LockDateHistoryResponse(IReadOnlyList<LockDateChangeResponse> Items);

public sealed record YearEndCloseResponse(string FiscalYearStart, string FiscalYearEnd, long EntryId, string ClosedAt, string ClosedBy);

public sealed record YearEndCloseList(IReadOnlyList<YearEndCloseResponse> Items);

public sealed class SetLockDateRequestValidator : AbstractValidator<SetLockDateRequest>
{
    public SetLockDateRequestValidator() =>
        RuleFor(x => x.Date).Must(d => d is null || DateText.TryParseDate(d, out _))
            .WithMessage("must be a date written YYYY-MM-DD, or null to clear the lock date.");
}

public sealed class YearEndCloseRequestValidator : AbstractValidator<YearEndCloseRequest>
{
    public YearEndCloseRequestValidator() =>
        RuleFor(x => x.FiscalYearEnd).NotEmpty().Must(d => DateText.TryParseDate(d, out _))
            .WithMessage("must be the last day of a fiscal year, written YYYY-MM-DD.");
}
