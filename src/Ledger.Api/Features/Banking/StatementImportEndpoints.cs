using Ledger.Api.Features.Audit;
using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.BankStatements;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Banking;

public sealed record StatementImportQuery(
    [property: FromQuery(Name = "format"), Description("csv, ofx, camt053 or mt940; recognised from the content when left out (CSV needs a profile).")] string? Format,
    [property: FromQuery(Name = "profile"), Description("The CSV profile (name or id) of this bank account to read a CSV file with.")] string? Profile,
    [property: FromQuery(Name = "dryRun"), Description("true: answer what would be imported, each line marked new or duplicate, and store nothing.")] bool? DryRun,
    [property: FromQuery(Name = "applyRules"), Description("false: do not code new lines by the book's bank rules.")] bool? ApplyRules,
    [property: FromQuery(Name = "autoMatch"), Description("false: do not match new lines that name exactly one open invoice or bill of exactly their amount.")] bool? AutoMatch);

/// <summary>A line of the imported file: <c>import</c> says whether it was new or a line already imported.</summary>
public sealed record ImportedStatementLine(long? Id, string BookingDate, string ValueDate, string Amount, string Description, string? Counterparty,
    string? CounterpartyIban, string? BankReference, bool Reversal, string Status, string Import);

public sealed record StatementImportResponse(long? StatementId, string Format, int Imported, int Duplicates, string? OpeningBalance,
    string? ClosingBalance, bool DryRun, int AutoMatched, int MatchedByRules, IReadOnlyList<ImportedStatementLine> Lines, IReadOnlyList<string> Warnings);

public sealed class StatementImportQueryValidator : AbstractValidator<StatementImportQuery>
{
    public StatementImportQueryValidator()
    {
        RuleFor(x => x.Format).Must(f => f is "csv" or "ofx" or "camt053" or "mt940").When(x => x.Format is not null)
            .WithMessage("must be csv, ofx, camt053 or mt940.");
        RuleFor(x => x.Profile).MaximumLength(100);
    }
}

/// <summary>
/// Imports a bank statement file. Nothing is doubled and nothing dropped: the same file again changes nothing (files
/// are known by their SHA-256), and each line is known by the bank's reference with its date and amount, or, without
/// one, by date, amount, text and counterparty and which occurrence of those it is in its file, so an overlapping
/// file adds only its new lines and two genuine identical lines in one file both stay. The whole file imports or
/// nothing does.
/// </summary>
public static class StatementImportEndpoints
{
    public static void MapStatementImport(this IEndpointRouteBuilder app)
    {
        var statements = app.MapGroup("/v1/books/{bookId}/bank-accounts/{id:long}/statements").RequireBookAccess().ValidateRequests()
            .WithTags("Bank statements");
        statements.MapPost("/", ImportAsync).WithName("importStatement").WithSummary("Import a bank statement file")
            .WithDescription("The file is the body (at most 20 MB): CSV through a profile, OFX 1.x or 2.x, CAMT.053 or MT940. Answers 201 with " +
                             "how many lines were new and how many were already imported; the same file again is 200 with imported 0. " +
                             "A file that states opening and closing balances must tie (422 with the difference); a file that cannot be " +
                             "read is 400 naming the line or element. New lines are matched to open invoices and bills they name and " +
                             "coded by the bank rules unless autoMatch / applyRules are false. dryRun answers the same and stores nothing.")
            // No Accepts metadata: routing would then refuse (415) the content types banks and tools send files with, and
            // the file's own bytes say what it is. The body is documented by StatementFileBodyFilter.
            .Produces<StatementImportResponse>(StatusCodes.Status201Created).Produces<StatementImportResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithMetadata(new RequestBodyLimit(StatementLimits.MaxFileBytes));
        statements.MapGet("/", ListAsync).WithName("listStatements").WithSummary("List imported statements")
            .WithDescription("The files imported for this bank account, newest first, with their balances and line counts.");
    }

    public sealed record StatementSummary(long Id, string Format, int Imported, int Duplicates, string? OpeningBalance, string? OpeningDate,
        string? ClosingBalance, string? ClosingDate, string? FirstDate, string? LastDate, string ImportedAt, string ContentHash);

    private static async Task<Ok<StatementSummary[]>> ListAsync(string bookId, long id, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        _ = BankAccountsEndpoints.Find(connection, bookId, id);
        var rows = await connection.QueryAsync<(long Id, string Format, long Imported, long Duplicates, long? Opening, string? OpeningDate,
            long? Closing, string? ClosingDate, string? FirstDate, string? LastDate, string ImportedAt, string Hash)>("""
            SELECT id, format, imported_lines, duplicate_lines, opening_balance, opening_date, closing_balance, closing_date, first_date, last_date,
                   imported_at, content_hash
            FROM bank_statements WHERE book_id = @bookId AND bank_account_id = @id ORDER BY id DESC LIMIT 1000
            """, new { bookId, id });
        string? F(long? v) => v is { } x ? new Amount(x).Format(book.Digits) : null;
        return TypedResults.Ok(rows.Select(r => new StatementSummary(r.Id, r.Format, (int)r.Imported, (int)r.Duplicates, F(r.Opening), r.OpeningDate,
            F(r.Closing), r.ClosingDate, r.FirstDate, r.LastDate, r.ImportedAt, r.Hash)).ToArray());
    }

    private static async Task<IResult> ImportAsync(string bookId, long id, [AsParameters] StatementImportQuery query, HttpRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, HttpContext http, BookCatalog books, LedgerDatabase database,
        LedgerWriter writer, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var options = json.Value.SerializerOptions;
        await using var body = await StatementBody.ReadAsync(request, http.RequestAborted);
        var hash = body.Hash;

        StoredBankAccount bankAccount;
        CsvProfile? profile = null;
        await using (var connection = await database.OpenReadAsync())
        {
            bankAccount = BankAccountsEndpoints.Find(connection, bookId, id);
            if (query.Profile is { } profileName)
            {
                var stored = CsvProfilesEndpoints.Read(connection, bookId, id, profileName, options)
                    ?? throw new ValidationFailedException("profile", $"Bank account {id} has no CSV profile '{profileName}'.");
                profile = CsvProfilesEndpoints.ToParserProfile(stored);
            }
        }
        var format = FormatOf(query, body.Head, profile);
        var file = Parse(body.Content, format, book, profile);
        var prepared = Prepare(file, book, bankAccount);
        var dryRun = query.DryRun == true;
        var keyId = http.Caller().KeyId;
        var settings = new ImportSettings(query.AutoMatch != false, query.ApplyRules != false, keyId);

        if (dryRun)
        {
            await using var connection = await database.OpenReadAsync();
            var preview = Preview(connection, book, bankAccount, prepared, hash);
            return TypedResults.Ok(preview);
        }

        if (bankAccount.Archived != 0) throw new ConflictException($"Bank account {id} is archived; unarchive it to import statements.");
        var fingerprint = new ImportFingerprint(id, hash, format.ToString(), query.Profile, settings.AutoMatch, settings.ApplyRules);
        var outcome = await writer.WriteIdempotentAsync(bookId, idempotencyKey, () => Idempotency.Fingerprint("import-statement", fingerprint, options),
            session => Import(session, book, bankAccount, prepared, hash, body.Length, settings),
            result => new StoredResponse(result.Fresh ? StatusCodes.Status201Created : StatusCodes.Status200OK,
                result.Fresh ? Location(bookId, id, result.Response.StatementId) : null, JsonSerializer.Serialize(result.Response, options)));
        if (outcome.Replayed is { } replay) return replay;
        var done = outcome.Fresh!;
        return done.Fresh
            ? TypedResults.Created(Location(bookId, id, done.Response.StatementId), done.Response)
            : TypedResults.Ok(done.Response);
    }

    private static string Location(string bookId, long bankAccountId, long? statementId) =>
        $"/v1/books/{bookId}/bank-accounts/{bankAccountId}/statement-lines?statement={statementId}";

    private sealed record ImportFingerprint(long BankAccount, string ContentHash, string Format, string? Profile, bool AutoMatch, bool ApplyRules);

    public sealed record ImportSettings(bool AutoMatch, bool ApplyRules, string KeyId);

    private sealed record ImportResult(bool Fresh, StatementImportResponse Response);

    /// <summary>
    /// The uploaded file: hashed as it arrives, kept in memory when small and in a private temporary file (owner-only,
    /// deleted on close) when large, so a 20 MB statement is never held twice over in memory. 413 beyond 20 MB, also
    /// for a chunked body whose length was not announced.
    /// </summary>
    private sealed class StatementBody : IAsyncDisposable
    {
        private const int InMemoryBytes = 1024 * 1024;

        public required Stream Content { get; init; }
        public required string Hash { get; init; }
        public required long Length { get; init; }
        public required byte[] Head { get; init; }

        public static async Task<StatementBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Stream content = request.ContentLength is > InMemoryBytes ? TemporaryFile() : new MemoryStream();
            try
            {
                var chunk = new byte[81920];
                var head = new MemoryStream();
                long length = 0;
                int read;
                // Bounded by the size limit: every pass adds at least one byte or ends.
                while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
                {
                    length += read;
                    if (length > StatementLimits.MaxFileBytes)
                        throw new BadHttpRequestException($"The request body is larger than {StatementLimits.MaxFileBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
                    sha.AppendData(chunk, 0, read);
                    if (head.Length < 4096) head.Write(chunk, 0, (int)Math.Min(read, 4096 - head.Length));
                    if (content is MemoryStream memory && memory.Length + read > InMemoryBytes)
                    {
                        var file = TemporaryFile();
                        memory.Position = 0;
                        await memory.CopyToAsync(file, cancellationToken);
                        content = file;
                    }
                    await content.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
                }
                if (length == 0) throw new ValidationFailedException("body", "The statement file is empty; send the file as the request body.");
                content.Position = 0;
                return new StatementBody { Content = content, Hash = Convert.ToHexStringLower(sha.GetHashAndReset()), Length = length, Head = head.ToArray() };
            }
            catch
            {
                await content.DisposeAsync();
                throw;
            }
        }

        private static FileStream TemporaryFile()
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, Options = FileOptions.DeleteOnClose };
            // Bank data: readable by the API's user only (Windows keeps the temporary folder per user already).
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            return new FileStream(Path.Combine(Path.GetTempPath(), "ledger-statement-" + Guid.NewGuid().ToString("N")), options);
        }

        public ValueTask DisposeAsync() => Content.DisposeAsync();
    }

    private static StatementFormat FormatOf(StatementImportQuery query, byte[] head, CsvProfile? profile)
    {
        var format = query.Format switch
        {
            "csv" => StatementFormat.Csv,
            "ofx" => StatementFormat.Ofx,
            "camt053" => StatementFormat.Camt053,
            "mt940" => StatementFormat.Mt940,
            _ => StatementReader.Detect(head) ?? (profile is not null ? StatementFormat.Csv
                : throw new ValidationFailedException("format", "The file is not OFX, CAMT.053 or MT940; for a CSV file give ?profile= (or ?format=)")),
        };
        if (format == StatementFormat.Csv && profile is null)
            throw new ValidationFailedException("profile", "A CSV statement needs a profile: create one (csv-profiles) and give ?profile=.");
        return format;
    }

    private static StatementFile Parse(Stream content, StatementFormat format, BookIdentity book, CsvProfile? profile)
    {
        try
        {
            return StatementReader.Read(content, format, new StatementReadOptions(book.Digits, profile));
        }
        catch (StatementFormatException e)
        {
            throw new ProblemException(StatusCodes.Status400BadRequest, "The statement file cannot be read", e.Message).With("location", e.Location);
        }
    }

    public sealed record PreparedLine(StatementLine Line, string Key);

    public sealed record PreparedFile(StatementFile File, IReadOnlyList<PreparedLine> Lines, IReadOnlyList<string> Warnings);

    /// <summary>Checks what the file states (currency, account, balances) and gives each line its identity.</summary>
    private static PreparedFile Prepare(StatementFile file, BookIdentity book, StoredBankAccount account)
    {
        var warnings = new List<string>(file.Warnings);
        // One bank account, one account's statements: a file with several (an OFX holding a bank and a card statement, an
        // MT940 of two accounts) takes only this account's, named by its IBAN; the others' lines and balances are not its.
        var keys = file.Sections.Select(s => s.AccountIdentifier is { Length: > 0 } a ? AccountKey(a) : null).ToList();
        var accounts = keys.OfType<string>().Distinct().ToList();
        if (accounts.Count > 1)
        {
            var named = string.Join(", ", file.Sections.Select(s => s.AccountIdentifier).OfType<string>().Distinct().Take(5));
            if (account.Iban is not { } own)
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statements of several accounts",
                    $"The file holds statements of {accounts.Count} accounts ({named}); " +
                    $"bank account {account.Id} has no IBAN to tell which is its own. Give it its IBAN (PATCH …/bank-accounts/{account.Id}), or import a file of this account only.");
            var ownKey = AccountKey(own);
            var kept = new List<StatementSection>();
            for (var s = 0; s < file.Sections.Count; s++)
                if (keys[s] is null || keys[s] == ownKey) kept.Add(file.Sections[s]);
                else warnings.Add($"Statement {s + 1} of the file is for account {file.Sections[s].AccountIdentifier}, not this bank account's {own}: left out.");
            if (kept.Count == 0)
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statement of another account",
                    $"The file holds statements of {named}; " +
                    $"bank account {account.Id} is {own}.");
            file = file with { Sections = kept };
        }
        for (var s = 0; s < file.Sections.Count; s++)
        {
            var section = file.Sections[s];
            var where = file.Sections.Count > 1 ? $"Statement {s + 1} of the file" : "The file";
            if (account.Iban is { } germanIban && section.AccountIdentifier is { } domestic && GermanAccount(domestic) is { } named
                && germanIban.StartsWith("DE", StringComparison.Ordinal) && germanIban.Length == 22
                && named != (germanIban[4..12], germanIban[12..]))
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statement of another account",
                    $"{where} is for bank code {named.BankCode}, account {named.Account}; bank account {account.Id} is {germanIban} " +
                    $"(bank code {germanIban[4..12]}, account {germanIban[12..]}).");
            if (s > 0 && file.Sections[s - 1].ClosingBalance is { } previous && section.OpeningBalance is { } opens
                && previous.MinorUnits != opens.MinorUnits)
                warnings.Add($"{where} opens at {opens.Format(book.Digits)}, not at the {previous.Format(book.Digits)} statement {s} of the " +
                             "file closed with: a statement may be missing.");
            if (section.Currency is { Length: > 0 } currency && !string.Equals(currency, account.Currency, StringComparison.OrdinalIgnoreCase))
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statement in another currency",
                    $"{where} is in {currency}; bank account {account.Id} is in {account.Currency}.");
            if (account.Iban is { } iban && section.AccountIdentifier is { } stated && BankAccountRules.IsIban(stated)
                && BankAccountRules.Normalize(stated) != iban)
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statement of another account",
                    $"{where} is for account {BankAccountRules.Normalize(stated)}; bank account {account.Id} is {iban}.");
            if (section is { OpeningBalance: { } opening, ClosingBalance: { } closing })
            {
                long sum;
                try
                {
                    sum = opening.MinorUnits;
                    foreach (var line in section.Lines) sum = checked(sum + line.Amount.MinorUnits);
                }
                catch (OverflowException)
                {
                    throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statement does not add up",
                        $"{where}: its lines add up beyond what 64-bit minor units hold.");
                }
                if (sum != closing.MinorUnits)
                {
                    var difference = new Amount(checked(closing.MinorUnits - sum)).Format(book.Digits);
                    throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statement does not add up",
                            $"{where}: opening balance {opening.Format(book.Digits)} plus its {section.Lines.Count} lines is {new Amount(sum).Format(book.Digits)}, " +
                            $"but the closing balance is {closing.Format(book.Digits)} (difference {difference}). Nothing was imported.")
                        .With("difference", difference).With("section", (s + 1).ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        var occurrences = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = new List<PreparedLine>();
        foreach (var line in file.Lines)
        {
            if (lines.Count >= StatementLimits.MaxLines)
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Statement too long", $"A file holds at most {StatementLimits.MaxLines} lines.");
            lines.Add(new PreparedLine(line, LineKey(line, occurrences)));
        }
        // The occurrence in each key keeps keys of one file apart; import and dry run rely on it.
        if (lines.Select(l => l.Key).Distinct(StringComparer.Ordinal).Count() != lines.Count)
            throw new InvalidOperationException("Two lines of one file got the same key; refusing to import.");
        return new PreparedFile(file, lines, warnings);
    }

    /// <summary>
    /// Which line of the bank's this is: its reference, date and amount when the bank gives a reference (a reused
    /// reference with another amount or date is another line); otherwise date, amount, text and counterparty; and in
    /// both cases which occurrence of those it is within its file, so identical genuine lines stay apart and the same
    /// file finds them again.
    /// </summary>
    public static string LineKey(StatementLine line, Dictionary<string, int> occurrences)
    {
        var date = DateText.Format(line.BookingDate);
        var amount = line.Amount.MinorUnits.ToString(CultureInfo.InvariantCulture);
        var basis = !string.IsNullOrWhiteSpace(line.BankReference)
            ? string.Join('\u001f', "ref", line.BankReference.Trim(), date, amount)
            : string.Join('\u001f', "text", date, amount, line.Description, line.Counterparty ?? "");
        // The same identity twice in one file is two genuine lines (a bank that repeats a reference on one day for the same
        // amount, two identical coffees): the occurrence keeps them apart, and finds each again in a later file.
        occurrences.TryGetValue(basis, out var seen);
        occurrences[basis] = seen + 1;
        var text = basis + '\u001f' + (seen + 1).ToString(CultureInfo.InvariantCulture);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private sealed record KnownLine(long Id, string Key, string Status);

    // An account as statements name it, for telling several apart: a German account by bank code and account number
    // (written as an IBAN or the domestic way), another IBAN without spaces, else the text as written.
    private static string AccountKey(string stated)
    {
        if (GermanAccount(stated) is { } domestic) return $"DE:{domestic.BankCode}{domestic.Account}";
        if (!BankAccountRules.IsIban(stated)) return stated.Trim();
        var iban = BankAccountRules.Normalize(stated);
        return iban.StartsWith("DE", StringComparison.Ordinal) && iban.Length == 22 ? $"DE:{iban[4..]}" : iban;
    }

    /// <summary>
    /// A German account written the domestic way, bank code and account number ("37040044/0532013000", MT940's :25:), as
    /// the IBAN holds them: the 8-digit bank code and the account number left-padded to 10 digits. Null for anything else.
    /// </summary>
    private static (string BankCode, string Account)? GermanAccount(string stated)
    {
        var parts = stated.Trim().Split('/');
        if (parts.Length != 2 || parts[0].Length != 8 || parts[1].Length is 0 or > 10) return null;
        if (!parts[0].All(char.IsAsciiDigit) || !parts[1].All(char.IsAsciiDigit)) return null;
        return (parts[0], parts[1].PadLeft(10, '0'));
    }

    /// <summary>Lines already imported for the bank account in the file's date range, by key.</summary>
    private static Dictionary<string, KnownLine> Known(DbConnection connection, string bookId, long bankAccountId, IReadOnlyList<PreparedLine> lines)
    {
        var known = new Dictionary<string, KnownLine>(StringComparer.Ordinal);
        if (lines.Count == 0) return known;
        var from = DateText.Format(lines.Min(l => l.Line.BookingDate));
        var to = DateText.Format(lines.Max(l => l.Line.BookingDate));
        foreach (var row in connection.Query<KnownLine>("""
                     SELECT id AS Id, dedupe_key AS Key, status AS Status FROM statement_lines
                     WHERE book_id = @bookId AND bank_account_id = @bankAccountId AND booking_date >= @from AND booking_date <= @to
                     """, new { bookId, bankAccountId, from, to }))
            known[row.Key] = row;
        return known;
    }

    private static StatementImportResponse Preview(DbConnection connection, BookIdentity book, StoredBankAccount account, PreparedFile prepared, string hash)
    {
        var known = Known(connection, book.Id, account.Id, prepared.Lines);
        var lines = new List<ImportedStatementLine>(prepared.Lines.Count);
        var imported = 0;
        foreach (var p in prepared.Lines)
        {
            var duplicate = known.TryGetValue(p.Key, out var existing);
            if (!duplicate) imported++;
            lines.Add(Answer(p.Line, existing?.Id, existing?.Status ?? "unmatched", duplicate ? "duplicate" : "new", book.Digits));
        }
        var warnings = new List<string>(prepared.Warnings);
        if (connection.ExecuteScalar<long?>("SELECT id FROM bank_statements WHERE book_id = @bookId AND bank_account_id = @id AND content_hash = @hash",
                new { bookId = book.Id, id = account.Id, hash }) is { } earlier)
            warnings.Add($"This file was imported before (statement {earlier}); importing it again changes nothing.");
        ContinuityWarning(connection, book, account, prepared.File, warnings);
        return new StatementImportResponse(null, FormatName(prepared.File.Format), imported, lines.Count - imported, Opening(prepared.File, book),
            Closing(prepared.File, book), true, 0, 0, lines, warnings);
    }

    private static ImportResult Import(WriteSession session, BookIdentity book, StoredBankAccount account, PreparedFile prepared, string hash,
        long fileBytes, ImportSettings settings)
    {
        var connection = session.Connection;
        var known = Known(connection, book.Id, account.Id, prepared.Lines);
        if (connection.ExecuteScalar<long?>("SELECT id FROM bank_statements WHERE book_id = @bookId AND bank_account_id = @id AND content_hash = @hash",
                new { bookId = book.Id, id = account.Id, hash }) is { } earlier)
        {
            // The same file again: nothing changes; every line is answered as the one stored.
            var again = prepared.Lines.Select(p => known.TryGetValue(p.Key, out var k)
                ? Answer(p.Line, k.Id, k.Status, "duplicate", book.Digits)
                : Answer(p.Line, null, "unmatched", "duplicate", book.Digits)).ToList();
            return new ImportResult(false, new StatementImportResponse(earlier, FormatName(prepared.File.Format), 0, again.Count,
                Opening(prepared.File, book), Closing(prepared.File, book), false, 0, 0, again,
                [.. prepared.Warnings, $"This file was imported before (statement {earlier}); nothing changed."]));
        }

        var warnings = new List<string>(prepared.Warnings);
        ContinuityWarning(connection, book, account, prepared.File, warnings);
        var statementId = session.NextId("bank_statements");
        var fresh = new List<(PreparedLine Line, int Index)>();
        var ids = new long?[prepared.Lines.Count];
        var isNew = new bool[prepared.Lines.Count];
        // Keys are unique within a file (Prepare asserts it): a line is new exactly when no stored line has its key.
        for (var i = 0; i < prepared.Lines.Count; i++)
        {
            var p = prepared.Lines[i];
            if (known.TryGetValue(p.Key, out var k)) ids[i] = k.Id;
            else
            {
                isNew[i] = true;
                fresh.Add((p, i));
            }
        }
        var newIds = session.NextIds("statement_lines", fresh.Count);
        for (var n = 0; n < fresh.Count; n++) ids[fresh[n].Index] = newIds[n];

        var dates = prepared.Lines.Select(p => p.Line.BookingDate).ToList();
        var opening = prepared.File.Sections.FirstOrDefault(s => s.OpeningBalance is not null);
        var closing = prepared.File.Sections.LastOrDefault(s => s.ClosingBalance is not null);
        connection.Execute("""
            INSERT INTO bank_statements (id, book_id, bank_account_id, format, content_hash, file_bytes, imported_lines, duplicate_lines,
                                         opening_balance, opening_date, closing_balance, closing_date, first_date, last_date, imported_at, imported_by)
            VALUES (@statementId, @bookId, @accountId, @format, @hash, @fileBytes, @imported, @duplicates, @opening, @openingDate, @closing, @closingDate,
                    @firstDate, @lastDate, @at, @by)
            """, new
        {
            statementId, bookId = book.Id, accountId = account.Id, format = FormatName(prepared.File.Format), hash, fileBytes,
            imported = fresh.Count, duplicates = prepared.Lines.Count - fresh.Count,
            opening = opening?.OpeningBalance?.MinorUnits, openingDate = opening?.OpeningDate is { } od ? DateText.Format(od) : null,
            closing = closing?.ClosingBalance?.MinorUnits, closingDate = closing?.ClosingDate is { } cd ? DateText.Format(cd) : null,
            firstDate = dates.Count > 0 ? DateText.Format(dates.Min()) : null, lastDate = dates.Count > 0 ? DateText.Format(dates.Max()) : null,
            at = Timestamps.Format(session.Now), by = settings.KeyId,
        });
        EventLog.Append(session, book.Id, "statement.imported", "statement", statementId.ToString(CultureInfo.InvariantCulture), EventData.Of(
            ("id", statementId), ("bankAccount", account.Id), ("format", FormatName(prepared.File.Format)), ("contentHash", hash),
            ("imported", fresh.Count), ("duplicates", prepared.Lines.Count - fresh.Count),
            ("firstLine", fresh.Count > 0 ? newIds[0] : null), ("lastLine", fresh.Count > 0 ? newIds[^1] : null),
            ("openingBalance", Opening(prepared.File, book)), ("closingBalance", Closing(prepared.File, book))));
        // A bounded number of rows per call, so a 50,000-line file never holds all its parameter rows at once.
        foreach (var chunk in fresh.Select((f, n) => (f, n)).Chunk(1000))
            session.InsertRows("statement_lines", LineColumns, chunk.Select(c => LineRow(newIds[c.n], book.Id, account.Id, statementId, c.f.Line)).ToList());

        if (fresh.Count > 0) TieOutWarning(session.Connection, book, account, prepared.File, warnings);

        var statuses = new string[prepared.Lines.Count];
        Array.Fill(statuses, "unmatched");
        for (var i = 0; i < ids.Length; i++) if (!isNew[i] && known.TryGetValue(prepared.Lines[i].Key, out var k)) statuses[i] = k.Status;

        var autoMatched = 0;
        var byRules = 0;
        if (fresh.Count > 0 && (settings.AutoMatch || settings.ApplyRules))
        {
            var candidates = fresh.Select((f, n) => ToStored(newIds[n], account, statementId, f.Line.Line)).ToList();
            var outcome = BankRules.CodeNewLines(session, book, account, candidates, settings, warnings);
            autoMatched = outcome.AutoMatched;
            byRules = outcome.ByRules;
            for (var n = 0; n < fresh.Count; n++) if (outcome.Matched.Contains(newIds[n])) statuses[fresh[n].Index] = "matched";
        }
        var lines = prepared.Lines.Select((p, i) => Answer(p.Line, ids[i], statuses[i], isNew[i] ? "new" : "duplicate", book.Digits)).ToList();
        return new ImportResult(true, new StatementImportResponse(statementId, FormatName(prepared.File.Format), fresh.Count,
            prepared.Lines.Count - fresh.Count, Opening(prepared.File, book), Closing(prepared.File, book), false, autoMatched, byRules, lines, warnings));
    }

    public static StoredStatementLine ToStored(long id, StoredBankAccount account, long statementId, StatementLine line) =>
        new(id, account.Id, statementId, DateText.Format(line.BookingDate), DateText.Format(line.ValueDate), line.Amount.MinorUnits, line.Description,
            line.Counterparty, line.CounterpartyIban, line.BankReference, line.IsReversal ? 1 : 0, "unmatched", account.Account);

    /// <summary>An opening balance that differs from the closing balance of the statement before it is worth a look, not a refusal.</summary>
    private static void ContinuityWarning(DbConnection connection, BookIdentity book, StoredBankAccount account, StatementFile file, List<string> warnings)
    {
        var first = file.Sections.FirstOrDefault(s => s.OpeningBalance is not null);
        if (first?.OpeningBalance is not { } opening) return;
        var start = first.OpeningDate ?? first.Lines.Select(l => l.BookingDate).DefaultIfEmpty().Min();
        var previous = connection.QuerySingleOrDefault<(long Id, long Closing, string? ClosingDate)?>("""
            SELECT id, closing_balance, closing_date FROM bank_statements
            WHERE book_id = @bookId AND bank_account_id = @id AND closing_balance IS NOT NULL AND COALESCE(closing_date, last_date) <= @start
            ORDER BY COALESCE(closing_date, last_date) DESC, id DESC LIMIT 1
            """, new { bookId = book.Id, id = account.Id, start = DateText.Format(start) });
        if (previous is { } p && p.Closing != opening.MinorUnits)
            warnings.Add($"The opening balance {opening.Format(book.Digits)} differs from the closing balance {new Amount(p.Closing).Format(book.Digits)} " +
                         $"of statement {p.Id}{(p.ClosingDate is null ? "" : $" ({p.ClosingDate})")}: a statement may be missing between them.");
    }

    /// <summary>
    /// After the lines are in: do the account's statement lines now reach the balance the file closes with? The file
    /// ties by itself (Prepare checks it), so a difference is in what was there before: the same transactions imported
    /// again in another shape (a batch booked as one line in one format and as its parts in another, a changed
    /// reference) or a statement missing between. Said, not refused: which of the lines is the extra one only a person
    /// can tell (ignore it).
    /// </summary>
    private static void TieOutWarning(DbConnection connection, BookIdentity book, StoredBankAccount account, StatementFile file, List<string> warnings)
    {
        var closing = file.Sections.LastOrDefault(s => s.ClosingBalance is not null);
        if (closing?.ClosingBalance is not { } stated) return;
        var through = closing.ClosingDate ?? closing.Lines.Select(l => l.BookingDate).DefaultIfEmpty().Max();
        if (through == default || ReconciliationEndpoints.Figures.StatementBalanceThrough(connection, book.Id, account.Id, through) is not { } reached
            || reached == stated.MinorUnits) return;
        warnings.Add($"With this file the account's statement lines reach {new Amount(reached).Format(book.Digits)} by {DateText.Format(through)}, " +
                     $"but the file closes at {stated.Format(book.Digits)} (a difference of {new Amount(checked(reached - stated.MinorUnits)).Format(book.Digits)}): " +
                     "a transaction may have been imported twice in another shape (a batch as one line and as its parts), or a statement may be missing.");
    }

    private static string? Opening(StatementFile file, BookIdentity book) =>
        file.Sections.FirstOrDefault(s => s.OpeningBalance is not null)?.OpeningBalance?.Format(book.Digits);

    private static string? Closing(StatementFile file, BookIdentity book) =>
        file.Sections.LastOrDefault(s => s.ClosingBalance is not null)?.ClosingBalance?.Format(book.Digits);

    public static string FormatName(StatementFormat format) => format switch
    {
        StatementFormat.Csv => "csv",
        StatementFormat.Ofx => "ofx",
        StatementFormat.Camt053 => "camt053",
        StatementFormat.Mt940 => "mt940",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private static ImportedStatementLine Answer(StatementLine line, long? id, string status, string import, int digits) =>
        new(id, DateText.Format(line.BookingDate), DateText.Format(line.ValueDate), line.Amount.Format(digits), line.Description, line.Counterparty,
            line.CounterpartyIban, line.BankReference, line.IsReversal, status, import);

    private static readonly string[] LineColumns =
    [
        "id", "book_id", "bank_account_id", "statement_id", "booking_date", "value_date", "amount", "description", "counterparty",
        "counterparty_iban", "bank_reference", "reversal", "dedupe_key", "status",
    ];

    private static object?[] LineRow(long id, string bookId, long accountId, long statementId, PreparedLine p) =>
    [
        id, bookId, accountId, statementId, DateText.Format(p.Line.BookingDate), DateText.Format(p.Line.ValueDate), p.Line.Amount.MinorUnits,
        p.Line.Description, p.Line.Counterparty, p.Line.CounterpartyIban, p.Line.BankReference, p.Line.IsReversal ? 1L : 0L, p.Key, "unmatched",
    ];
}
