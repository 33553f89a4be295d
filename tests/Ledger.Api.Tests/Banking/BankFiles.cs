using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Banking;

/// <summary>A line the tests put in a statement file: money in positive, money out negative.</summary>
public sealed record BankLine(string Date, string Amount, string Text, string? Reference = null, string? Counterparty = null, string? Iban = null);

/// <summary>Statement files written by the tests, and the HTTP calls of the bank feature.</summary>
public static class BankFiles
{
    public const string Iban = "DE89370400440532013000";
    public const string OtherIban = "GB82WEST12345698765432";

    /// <summary>A CAMT.053.001.08 statement; balances are stated when given.</summary>
    public static string Camt(string? opening, string? closing, params BankLine[] lines)
    {
        var x = new StringBuilder();
        x.Append("""<?xml version="1.0" encoding="UTF-8"?>""").Append('\n');
        x.Append("""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>""");
        x.Append("<GrpHdr><MsgId>T</MsgId><CreDtTm>2026-04-01T08:00:00</CreDtTm></GrpHdr><Stmt><Id>S</Id>");
        x.Append($"<Acct><Id><IBAN>{Iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>");
        var first = lines.Length > 0 ? lines.Min(l => l.Date)! : "2026-03-01";
        var last = lines.Length > 0 ? lines.Max(l => l.Date)! : "2026-03-31";
        if (opening is not null) x.Append(Balance("OPBD", opening, first));
        if (closing is not null) x.Append(Balance("CLBD", closing, last));
        foreach (var l in lines)
        {
            var credit = !l.Amount.StartsWith('-');
            x.Append($"<Ntry><Amt Ccy=\"EUR\">{l.Amount.TrimStart('-')}</Amt><CdtDbtInd>{(credit ? "CRDT" : "DBIT")}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>");
            x.Append($"<BookgDt><Dt>{l.Date}</Dt></BookgDt><ValDt><Dt>{l.Date}</Dt></ValDt>");
            if (l.Reference is not null) x.Append($"<AcctSvcrRef>{SecurityElement.Escape(l.Reference)}</AcctSvcrRef>");
            x.Append("<BkTxCd/><NtryDtls><TxDtls>");
            if (l.Counterparty is not null || l.Iban is not null)
            {
                var role = credit ? "Dbtr" : "Cdtr";
                x.Append("<RltdPties>");
                if (l.Counterparty is not null) x.Append($"<{role}><Pty><Nm>{SecurityElement.Escape(l.Counterparty)}</Nm></Pty></{role}>");
                if (l.Iban is not null) x.Append($"<{role}Acct><Id><IBAN>{l.Iban}</IBAN></Id></{role}Acct>");
                x.Append("</RltdPties>");
            }
            x.Append($"<RmtInf><Ustrd>{SecurityElement.Escape(l.Text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>");
        }
        x.Append("</Stmt></BkToCstmrStmt></Document>\n");
        return x.ToString();
    }

    private static string Balance(string code, string amount, string date) =>
        $"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{amount.TrimStart('-')}</Amt>" +
        $"<CdtDbtInd>{(amount.StartsWith('-') ? "DBIT" : "CRDT")}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>";

    /// <summary>The sum of amounts as a decimal string with two places (test figures are small).</summary>
    public static string Sum(string start, params BankLine[] lines) =>
        (decimal.Parse(start, CultureInfo.InvariantCulture) + lines.Sum(l => decimal.Parse(l.Amount, CultureInfo.InvariantCulture)))
        .ToString("0.00", CultureInfo.InvariantCulture);

    public static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    public static async Task<long> CreateBankAccountAsync(this HttpClient admin, string book, string account = "1010", string? iban = Iban,
        string kind = "bank", string name = "Main bank") =>
        (await (await admin.PostJsonAsync(Url(book, "bank-accounts"), new { name, account, kind, iban })).AssertCreatedAsync())["id"]!
        .GetValue<long>();

    public static Task<HttpResponseMessage> ImportAsync(this HttpClient admin, string book, long bankAccount, string content, string query = "",
        string? idempotencyKey = null, string mediaType = "application/xml") =>
        admin.ImportBytesAsync(book, bankAccount, Encoding.UTF8.GetBytes(content), query, idempotencyKey, mediaType);

    public static Task<HttpResponseMessage> ImportBytesAsync(this HttpClient admin, string book, long bankAccount, byte[] content, string query = "",
        string? idempotencyKey = null, string mediaType = "application/octet-stream")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Url(book, "bank-accounts")}/{bankAccount}/statements{query}")
        {
            Content = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } },
        };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return admin.SendAsync(request);
    }

    public static async Task<JsonNode> ImportOkAsync(this HttpClient admin, string book, long bankAccount, string content, string query = "",
        HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await admin.ImportAsync(book, bankAccount, content, query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    public static async Task<List<JsonNode>> LinesAsync(this HttpClient admin, string book, long bankAccount, string query = "")
    {
        var page = await admin.GetJsonAsync($"{Url(book, "bank-accounts")}/{bankAccount}/statement-lines?limit=1000{query}");
        return page["items"]!.AsArray().Select(n => n!).ToList();
    }

    public static Task<HttpResponseMessage> MatchAsync(this HttpClient admin, string book, long line, object body, string? idempotencyKey = null) =>
        admin.PostJsonAsync($"{Url(book, "statement-lines")}/{line}/match", body, idempotencyKey);

    public static Task<JsonNode> ReconciliationAsync(this HttpClient admin, string book, long bankAccount, string asOf) =>
        admin.GetJsonAsync($"{Url(book, "bank-accounts")}/{bankAccount}/reconciliation?asOf={asOf}");

    public static long Id(this JsonNode? node) => node!["id"]!.GetValue<long>();

    public static string Str(this JsonNode? node, string member) => node![member]!.GetValue<string>();
}
