using Ledger.Api.Features.Audit;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.BankStatements;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Banking;

/// <summary>Which column holds each field: its header text, or its 1-based position when the file has no header.</summary>
public sealed record CsvColumnsRequest(string? Date, string? ValueDate, string? Amount, string? Debit, string? Credit, string? Description,
    string? Counterparty, string? Iban, string? Reference, string? Balance,
    [property: System.ComponentModel.Description("A column marking each row as money out or in (\"S\"/\"H\", \"D\"/\"C\"); the amount column then holds the amount unsigned. Goes with debitMarks.")] string? Sign = null,
    [property: System.ComponentModel.Description("A column whose values in skipStatuses mark rows not yet booked, which are skipped.")] string? Status = null);

public sealed record CsvProfileRequest(string? Name, string? Delimiter, string? DecimalSeparator, string? ThousandsSeparator, string? DateFormat,
    string? Encoding, bool? HasHeader, int? SkipRows, CsvColumnsRequest? Columns,
    [property: System.ComponentModel.Description("With columns.sign: the marks that mean money out (any case), such as [\"S\"]; every other mark is money in.")] IReadOnlyList<string>? DebitMarks = null,
    [property: System.ComponentModel.Description("With columns.status: the statuses of rows to skip (any case), such as [\"Umsatz vorgemerkt\"].")] IReadOnlyList<string>? SkipStatuses = null);

public sealed record CsvProfileResponse(long Id, string Name, string Delimiter, string DecimalSeparator, string? ThousandsSeparator,
    string DateFormat, string Encoding, bool HasHeader, int SkipRows, CsvColumnsRequest Columns, string CreatedAt,
    IReadOnlyList<string>? DebitMarks, IReadOnlyList<string>? SkipStatuses);

public sealed class CsvProfileRequestValidator : AbstractValidator<CsvProfileRequest>
{
    public static readonly string[] Encodings = ["utf-8", "iso-8859-1", "windows-1252"];

    public CsvProfileRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(100);
        RuleFor(x => x.Delimiter).NotEmpty().Must(d => d is ";" or "," or "\t" or "|").WithMessage("must be one of ';', ',', '|' or a tab.");
        RuleFor(x => x.DecimalSeparator).NotEmpty().Must(d => d is "." or ",").WithMessage("must be '.' or ','.");
        RuleFor(x => x.ThousandsSeparator).Must(t => t is "." or "," or " " or "'").When(x => x.ThousandsSeparator is not null)
            .WithMessage("must be '.', ',', ' ' or an apostrophe.");
        RuleFor(x => x.ThousandsSeparator).NotEqual(x => x.DecimalSeparator).When(x => x.ThousandsSeparator is not null)
            .WithMessage("must differ from decimalSeparator.");
        RuleFor(x => x.DecimalSeparator).NotEqual(x => x.Delimiter).When(x => x.DecimalSeparator is not null)
            .WithMessage("must differ from delimiter.");
        RuleFor(x => x.DateFormat).NotEmpty().MaximumLength(40).Must(IsDatePattern)
            .WithMessage("must be a date pattern such as \"dd.MM.yyyy\", \"yyyy-MM-dd\" or \"MM/dd/yyyy\".");
        RuleFor(x => x.Encoding).NotEmpty().Must(e => Encodings.Contains(e)).WithMessage("must be utf-8, iso-8859-1 or windows-1252.");
        RuleFor(x => x.HasHeader).NotNull();
        RuleFor(x => x.SkipRows).InclusiveBetween(0, 100).WithMessage("must be from 0 to 100.");
        RuleFor(x => x.Columns).NotNull();
        RuleFor(x => x.Columns!.Date).NotEmpty().MaximumLength(100).When(x => x.Columns is not null).OverridePropertyName("columns.date");
        RuleFor(x => x.Columns!.Description).NotEmpty().MaximumLength(100).When(x => x.Columns is not null).OverridePropertyName("columns.description");
        RuleFor(x => x.Columns!.Amount).NotEmpty().When(x => x.Columns is not null && x.Columns.Debit is null && x.Columns.Credit is null)
            .OverridePropertyName("columns.amount").WithMessage("Give amount, or debit and credit.");
        RuleFor(x => x.Columns!.Amount).Null().When(x => x.Columns is not null && (x.Columns.Debit is not null || x.Columns.Credit is not null))
            .OverridePropertyName("columns.amount").WithMessage("Give amount, or debit and credit, not both.");
        RuleFor(x => x.Columns!.Debit).NotEmpty().When(x => x.Columns is { Credit: not null }).OverridePropertyName("columns.debit")
            .WithMessage("Give debit with credit.");
        RuleFor(x => x.Columns!.Credit).NotEmpty().When(x => x.Columns is { Debit: not null }).OverridePropertyName("columns.credit")
            .WithMessage("Give credit with debit.");
        RuleFor(x => x.Columns!.Sign).MaximumLength(100).When(x => x.Columns is not null).OverridePropertyName("columns.sign");
        RuleFor(x => x.Columns!.Status).MaximumLength(100).When(x => x.Columns is not null).OverridePropertyName("columns.status");
        RuleFor(x => x.Columns!.Sign).Null().When(x => x.Columns is not null && x.Columns.Amount is null).OverridePropertyName("columns.sign")
            .WithMessage("goes with an amount column (the amount unsigned, the mark saying which way), not with debit and credit.");
        RuleFor(x => x.DebitMarks).NotEmpty().When(x => x.Columns?.Sign is not null)
            .WithMessage("must name the marks that mean money out (such as [\"S\"]) when columns.sign is given.");
        RuleFor(x => x.DebitMarks).Must(m => m!.Count <= 10 && m.All(v => v is { Length: >= 1 and <= 20 })).When(x => x.DebitMarks is not null)
            .WithMessage("must be up to 10 marks of 1 to 20 characters.");
        RuleFor(x => x.SkipStatuses).NotEmpty().When(x => x.Columns?.Status is not null)
            .WithMessage("must name the statuses of rows to skip when columns.status is given.");
        RuleFor(x => x.SkipStatuses).Must(m => m!.Count <= 20 && m.All(v => v is { Length: >= 1 and <= 100 })).When(x => x.SkipStatuses is not null)
            .WithMessage("must be up to 20 statuses of 1 to 100 characters.");
        RuleFor(x => x.Columns).Must(c => c!.HasHeaderlessPositions()).When(x => x.Columns is not null && x.HasHeader == false)
            .OverridePropertyName("columns").WithMessage("Without a header, name each column by its position (\"1\", \"2\", …).");
    }

    private static bool IsDatePattern(string? text)
    {
        if (string.IsNullOrEmpty(text)) return false;
        try
        {
            var pattern = NodaTime.Text.LocalDatePattern.CreateWithInvariantCulture(text);
            return pattern.Parse(pattern.Format(new NodaTime.LocalDate(2026, 11, 30))).Success;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (NodaTime.Text.InvalidPatternException)
        {
            return false;
        }
    }
}

internal static class CsvColumnsRequestExtensions
{
    public static bool HasHeaderlessPositions(this CsvColumnsRequest c) =>
        new[] { c.Date, c.ValueDate, c.Amount, c.Debit, c.Credit, c.Description, c.Counterparty, c.Iban, c.Reference, c.Balance, c.Sign, c.Status }
            .All(v => v is null || int.TryParse(v, out var n) && n is >= 1 and <= 1000);
}

/// <summary>
/// How a bank's CSV files are laid out, kept per bank account so its statements import with <c>?profile=</c>. Profiles
/// never change once made (an import names the profile it used); make a new one for a new layout.
/// </summary>
public static class CsvProfilesEndpoints
{
    public static void MapCsvProfiles(this IEndpointRouteBuilder app)
    {
        var profiles = app.MapGroup("/v1/books/{bookId}/bank-accounts/{id:long}/csv-profiles").RequireBookAccess().ValidateRequests()
            .WithTags("Bank statements");
        profiles.MapPost("/", CreateAsync).WithName("createCsvProfile").WithSummary("Describe a bank's CSV layout")
            .WithDescription("A mapping profile for CSV statements of this bank account: delimiter, decimal and thousands separators, " +
                             "date pattern, encoding (utf-8, iso-8859-1, windows-1252), header and rows to skip, and which column holds " +
                             "each field (amount, or debit and credit). The name is unique per bank account (409).")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        profiles.MapGet("/", ListAsync).WithName("listCsvProfiles").WithSummary("List a bank account's CSV profiles")
            .WithDescription("Every CSV profile of the bank account, by name.");
    }

    private static async Task<Results<Created<CsvProfileResponse>, StoredResponse>> CreateAsync(string bookId, long id, CsvProfileRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var options = json.Value.SerializerOptions;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"create-csv-profile/{id}", request, options,
            session =>
            {
                var connection = session.Connection;
                _ = BankAccountsEndpoints.Find(connection, bookId, id);
                if (connection.ExecuteScalar<long>("SELECT COUNT(*) FROM csv_profiles WHERE book_id = @bookId AND bank_account_id = @id AND name = @name",
                        new { bookId, id, name = request.Name }) > 0)
                    throw new ConflictException($"Bank account {id} already has a CSV profile named '{request.Name}'.");
                var profileId = session.NextId("csv_profiles");
                var stored = request with { SkipRows = request.SkipRows ?? 0 };
                connection.Execute("""
                    INSERT INTO csv_profiles (id, book_id, bank_account_id, name, profile, created_at)
                    VALUES (@profileId, @bookId, @id, @name, @profile, @createdAt)
                    """, new
                {
                    profileId, bookId, id, name = request.Name, profile = JsonSerializer.Serialize(stored, options),
                    createdAt = Timestamps.Format(session.Now),
                });
                var created = Read(connection, bookId, id, request.Name!, options)!;
                EventLog.AppendPayload(session, bookId, "csv_profile.created", "csv_profile", profileId.ToString(System.Globalization.CultureInfo.InvariantCulture), created);
                return created;
            },
            created => $"/v1/books/{bookId}/bank-accounts/{id}/csv-profiles");
    }

    private static async Task<Ok<CsvProfileResponse[]>> ListAsync(string bookId, long id, LedgerDatabase database,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        await using var connection = await database.OpenReadAsync();
        _ = BankAccountsEndpoints.Find(connection, bookId, id);
        var rows = await connection.QueryAsync<StoredProfile>(SelectSql + " ORDER BY name", new { bookId, id });
        return TypedResults.Ok(rows.Select(r => r.ToResponse(json.Value.SerializerOptions)).ToArray());
    }

    /// <summary>The profile of the bank account with this name (or id), or null.</summary>
    public static CsvProfileResponse? Read(System.Data.Common.DbConnection connection, string bookId, long bankAccountId, string nameOrId,
        JsonSerializerOptions options)
    {
        var row = connection.QuerySingleOrDefault<StoredProfile>(SelectSql + " AND name = @name", new { bookId, id = bankAccountId, name = nameOrId });
        if (row is null && long.TryParse(nameOrId, out var profileId))
            row = connection.QuerySingleOrDefault<StoredProfile>(SelectSql + " AND id = @profileId", new { bookId, id = bankAccountId, profileId });
        return row?.ToResponse(options);
    }

    /// <summary>The parser's profile for a stored one.</summary>
    public static CsvProfile ToParserProfile(CsvProfileResponse p) => new(
        p.Delimiter, p.DecimalSeparator[0], p.ThousandsSeparator is { Length: > 0 } t ? t[0] : null, p.DateFormat, p.Encoding, p.HasHeader,
        p.SkipRows, new CsvColumns(p.Columns.Date!, p.Columns.ValueDate, p.Columns.Amount, p.Columns.Debit, p.Columns.Credit,
            p.Columns.Description!, p.Columns.Counterparty, p.Columns.Iban, p.Columns.Reference, p.Columns.Balance, p.Columns.Sign, p.Columns.Status),
        p.DebitMarks, p.SkipStatuses);

    private const string SelectSql = """
        SELECT id AS Id, name AS Name, profile AS Profile, created_at AS CreatedAt FROM csv_profiles
        WHERE book_id = @bookId AND bank_account_id = @id
        """;

    private sealed record StoredProfile(long Id, string Name, string Profile, string CreatedAt)
    {
        public CsvProfileResponse ToResponse(JsonSerializerOptions options)
        {
            var p = JsonSerializer.Deserialize<CsvProfileRequest>(Profile, options)!;
            return new CsvProfileResponse(Id, Name, p.Delimiter!, p.DecimalSeparator!, p.ThousandsSeparator, p.DateFormat!, p.Encoding!,
                p.HasHeader!.Value, p.SkipRows ?? 0, p.Columns!, CreatedAt, p.DebitMarks, p.SkipStatuses);
        }
    }
}
