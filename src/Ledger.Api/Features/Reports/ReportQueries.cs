using Dapper;
using FluentValidation;
using Ledger.Api.Features.Journal;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using System.Data.Common;
using NodaTime;

namespace Ledger.Api.Features.Reports;

/// <summary>Query of the reports that stand at one date (trial balance, balance sheet).</summary>
public sealed record AsOfReportQuery(
    [property: FromQuery(Name = "asOf")] string? AsOf,
    [property: FromQuery(Name = "knownAt")] string? KnownAt,
    [property: FromQuery(Name = "format")] string? Format);

/// <summary>Query of the income statement: a period, optionally compared with another and split by month.</summary>
public sealed record IncomeStatementQuery(
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "compareFrom")] string? CompareFrom,
    [property: FromQuery(Name = "compareTo")] string? CompareTo,
    [property: FromQuery(Name = "columns")] string? Columns,
    [property: FromQuery(Name = "knownAt")] string? KnownAt,
    [property: FromQuery(Name = "format")] string? Format);

/// <summary>Query of one account's ledger: a period, read a page at a time.</summary>
public sealed record AccountLedgerQuery(
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor,
    [property: FromQuery(Name = "format")] string? Format);

/// <summary>Query of the general ledger: a period.</summary>
public sealed record GeneralLedgerQuery(
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "format")] string? Format);

public sealed class AsOfReportQueryValidator : AbstractValidator<AsOfReportQuery>
{
    public AsOfReportQueryValidator()
    {
        RuleFor(x => x.AsOf).IsDate();
        RuleFor(x => x.KnownAt).IsInstant();
        RuleFor(x => x.Format).IsReportFormat();
    }
}

public sealed class IncomeStatementQueryValidator : AbstractValidator<IncomeStatementQuery>
{
    /// <summary>Five years of monthly columns: enough for any statement, bounded in cost. Checked once the period is known.</summary>
    public const int MaxMonths = 60;

    public IncomeStatementQueryValidator()
    {
        RuleFor(x => x.From).IsDate().IsNotAfter(x => x.To, "to");
        RuleFor(x => x.To).IsDate();
        RuleFor(x => x.CompareFrom).IsDate().IsNotAfter(x => x.CompareTo, "compareTo");
        RuleFor(x => x.CompareTo).IsDate();
        // A comparison column needs both ends; separate rules, as a When() would also switch off the date checks.
        RuleFor(x => x.CompareFrom).NotNull().When(x => x.CompareTo is not null).WithMessage("must be given with compareTo.");
        RuleFor(x => x.CompareTo).NotNull().When(x => x.CompareFrom is not null).WithMessage("must be given with compareFrom.");
        RuleFor(x => x.Columns).Must(c => c is null or "month").WithMessage("must be 'month' or left out.");
        RuleFor(x => x.KnownAt).IsInstant();
        RuleFor(x => x.Format).IsReportFormat();
    }
}

public sealed class AccountLedgerQueryValidator : AbstractValidator<AccountLedgerQuery>
{
    public AccountLedgerQueryValidator()
    {
        RuleFor(x => x.From).IsDate().IsNotAfter(x => x.To, "to");
        RuleFor(x => x.To).IsDate();
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).Must(c => c is null || Cursor.TryDecode(c, out _)).WithMessage("is not a cursor this API returned.");
        RuleFor(x => x.Format).IsReportFormat();
    }
}

public sealed class GeneralLedgerQueryValidator : AbstractValidator<GeneralLedgerQuery>
{
    public GeneralLedgerQueryValidator()
    {
        RuleFor(x => x.From).IsDate().IsNotAfter(x => x.To, "to");
        RuleFor(x => x.To).IsDate();
        RuleFor(x => x.Format).IsReportFormat();
    }
}

/// <summary>The query-string rules that every report shares.</summary>
public static class ReportQueryRules
{
    public static IRuleBuilderOptions<T, string?> IsDate<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(d => d is null || DateText.TryParseDate(d, out _)).WithMessage("must be a date written YYYY-MM-DD.");

    public static IRuleBuilderOptions<T, string?> IsInstant<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(i => i is null || DateText.TryParseInstant(i, out _))
            .WithMessage("must be an ISO-8601 UTC instant such as 2026-04-05T00:00:00Z (fractional seconds allowed).");

    public static IRuleBuilderOptions<T, string?> IsReportFormat<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(f => f is null or "json" or "csv").WithMessage("must be 'json' or 'csv'.");

    /// <summary>A period's start must not come after its end (checked only when both are given and valid).</summary>
    public static IRuleBuilderOptions<T, string?> IsNotAfter<T>(this IRuleBuilderOptions<T, string?> rule, Func<T, string?> end, string endName) =>
        rule.Must((query, start) => !DateText.TryParseDate(start, out var s) || !DateText.TryParseDate(end(query), out var e) || s <= e)
            .WithMessage($"must be on or before {endName}.");

    /// <summary>A date that passed validation, or <paramref name="fallback"/> when it was left out.</summary>
    public static LocalDate DateOr(string? text, LocalDate fallback) => DateText.TryParseDate(text, out var date) ? date : fallback;

    public static Instant? InstantOrNull(string? text) => DateText.TryParseInstant(text, out var instant) ? instant : null;

    /// <summary>
    /// Makes a report as known at <paramref name="knownAt"/> final before its snapshot opens (see
    /// <see cref="LedgerWriter.SettleKnownAtAsync"/>), or answers why it cannot be: what is known at a future instant can
    /// still change.
    /// </summary>
    public static async Task<ValidationProblem?> SettleKnownAtAsync(string bookId, Instant? knownAt, LedgerWriter writer)
    {
        if (knownAt is not { } instant) return null;
        if (await writer.SettleKnownAtAsync(bookId, instant)) return null;
        return Problems.Validation("knownAt", $"must not be later than now ({DateText.Format(writer.Now())}): what is known at a future instant can still change.");
    }

    public static LocalDate Today(this IClock clock) => clock.GetCurrentInstant().InUtc().Date;

    /// <summary>The period a report asked for; either end left out defaults to the book's fiscal year to date.</summary>
    public static async Task<(LocalDate From, LocalDate To)> PeriodAsync(ReportSnapshot report, string? from, string? to, IClock clock)
    {
        var end = DateOr(to, clock.Today());
        var startMonth = await report.FiscalYearStartMonthAsync();
        return (DateOr(from, FiscalYear.Containing(end, startMonth).Start), end);
    }
}
