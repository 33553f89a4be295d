using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.BankStatements;

/// <summary>
/// Statement import (--statements N): a book of its own with a bank account on 1010, one CAMT.053 file of N booked
/// entries (credits and debits with unique bank references, opening and closing balances that tie), imported once
/// (rules and auto-matching off: the import itself) and then again (every line a duplicate). The baseline from the same
/// run is parsing the same bytes in the benchmark's own process, which is the floor under any import. Memory: the
/// server's resident set just before the import and its high-water mark just after.
/// </summary>
static class StatementsScenario
{
    public static async Task<JsonObject> RunAsync(ApiServer server, HttpClient http, int lines)
    {
        var result = new JsonObject();
        var response = await http.PostAsync("/v1/books",
            Setup.Json(new JsonObject { ["name"] = "Statements benchmark", ["currency"] = "EUR", ["chart"] = "standard" }));
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"Creating the book: {await response.Content.ReadAsStringAsync()}");
        var bookId = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        response = await http.PostAsync($"/v1/books/{bookId}/bank-accounts",
            Setup.Json(new JsonObject { ["name"] = "Bank", ["account"] = "1010", ["kind"] = "bank", ["iban"] = "DE89370400440532013000" }));
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"Creating the bank account: {await response.Content.ReadAsStringAsync()}");
        var bankAccount = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();

        var file = Camt(lines);
        // A realistic entry (bank reference, counterparty with IBAN, remittance text) is about 380 bytes: 50,000 of them fit the 20 MB limit.
        if (file.Length > StatementLimits.MaxFileBytes)
            throw new InvalidOperationException($"{lines} entries make a {file.Length / 1024 / 1024} MB file, over the API's 20 MB limit; import fewer.");
        result["lines"] = lines;
        result["fileMB"] = Math.Round(file.Length / 1024.0 / 1024.0, 2);

        // Baseline: the parser alone, in this process, on the same bytes (best of three, after one warm-up).
        var parse = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            var clock = Stopwatch.StartNew();
            using var stream = new MemoryStream(file, writable: false);
            var parsed = StatementReader.Read(stream, StatementFormat.Camt053, new StatementReadOptions(2));
            clock.Stop();
            if (parsed.Lines.Count() != lines) throw new InvalidOperationException($"The parser read {parsed.Lines.Count()} lines of {lines}.");
            if (i > 0) parse.Add(clock.Elapsed.TotalMilliseconds);
        }
        result["parseOnlyMs"] = Math.Round(parse.Min(), 1);
        result["parseOnlyLinesPerSecond"] = Math.Round(lines / (parse.Min() / 1000.0));

        result["serverRssBeforeMB"] = server.CurrentRssMegabytes();
        result["serverPeakRssBeforeMB"] = server.PeakRssMegabytes();
        var cpu = server.CpuSeconds();
        var (status, ms, body) = await ImportAsync(http, bookId, bankAccount, file);
        if (status != HttpStatusCode.Created) throw new InvalidOperationException($"The import answered {(int)status}: {body[..Math.Min(body.Length, 500)]}");
        var imported = JsonNode.Parse(body)!;
        if (imported["imported"]!.GetValue<int>() != lines) throw new InvalidOperationException($"Imported {imported["imported"]} of {lines} lines.");
        result["importMs"] = Math.Round(ms, 1);
        result["importLinesPerSecond"] = Math.Round(lines / (ms / 1000.0));
        result["importServerCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
        result["responseMB"] = Math.Round(Encoding.UTF8.GetByteCount(body) / 1024.0 / 1024.0, 2);
        result["serverPeakRssAfterMB"] = server.PeakRssMegabytes();

        (status, ms, body) = await ImportAsync(http, bookId, bankAccount, file);
        if (status != HttpStatusCode.OK || JsonNode.Parse(body)!["imported"]!.GetValue<int>() != 0)
            throw new InvalidOperationException($"The same file again answered {(int)status}, not 200 with imported 0.");
        result["reimportMs"] = Math.Round(ms, 1);
        result["serverPeakRssAfterReimportMB"] = server.PeakRssMegabytes();
        Console.WriteLine($"statements: {result.ToJsonString()}");
        return result;
    }

    private static async Task<(HttpStatusCode Status, double Ms, string Body)> ImportAsync(HttpClient http, string bookId, long bankAccount, byte[] file)
    {
        var content = new ByteArrayContent(file) { Headers = { ContentType = new MediaTypeHeaderValue("application/xml") } };
        var clock = Stopwatch.StartNew();
        using var response = await http.PostAsync($"/v1/books/{bookId}/bank-accounts/{bankAccount}/statements?applyRules=false&autoMatch=false", content);
        var body = await response.Content.ReadAsStringAsync();
        clock.Stop();
        return (response.StatusCode, clock.Elapsed.TotalMilliseconds, body);
    }

    /// <summary>A CAMT.053.001.08 file of <paramref name="lines"/> booked entries over one year, amounts in cents from a fixed seed.</summary>
    public static byte[] Camt(int lines)
    {
        var random = new Random(53);
        var x = new StringBuilder(lines * 700);
        x.Append("""<?xml version="1.0" encoding="UTF-8"?>""").Append('\n');
        x.Append("""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-01-01T00:00:00</CreDtTm></GrpHdr>""");
        x.Append("<Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>");
        var amounts = new long[lines];
        var balance = 100_000_00L;
        for (var i = 0; i < lines; i++) amounts[i] = random.Next(1, 500_000) * (random.Next(2) == 0 ? 1 : -1);
        var closing = balance + amounts.Sum();
        x.Append(Balance("OPBD", balance, "2025-01-01")).Append(Balance("CLBD", closing, "2025-12-31"));
        var first = new DateOnly(2025, 1, 1);
        for (var i = 0; i < lines; i++)
        {
            var date = first.AddDays(i * 365 / lines).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var credit = amounts[i] > 0;
            var role = credit ? "Dbtr" : "Cdtr";
            x.Append("<Ntry><Amt Ccy=\"EUR\">").Append(Money(Math.Abs(amounts[i]))).Append("</Amt><CdtDbtInd>").Append(credit ? "CRDT" : "DBIT")
                .Append("</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>").Append(date).Append("</Dt></BookgDt><AcctSvcrRef>BENCH-").Append(i.ToString(CultureInfo.InvariantCulture)).Append("</AcctSvcrRef>")
                .Append("<NtryDtls><TxDtls>")
                .Append("<RltdPties><").Append(role).Append("><Pty><Nm>Counterparty ").Append((i % 997).ToString(CultureInfo.InvariantCulture))
                .Append(" GmbH</Nm></Pty></").Append(role).Append("><").Append(role).Append("Acct><Id><IBAN>GB82WEST12345698765432</IBAN></Id></")
                .Append(role).Append("Acct></RltdPties><RmtInf><Ustrd>Invoice ").Append((100_000 + i).ToString(CultureInfo.InvariantCulture))
                .Append("</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>");
        }
        x.Append("</Stmt></BkToCstmrStmt></Document>\n");
        return Encoding.UTF8.GetBytes(x.ToString());
    }

    private static string Balance(string code, long cents, string date) =>
        $"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{Money(Math.Abs(cents))}</Amt><CdtDbtInd>{(cents < 0 ? "DBIT" : "CRDT")}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>";

    private static string Money(long cents) => (cents / 100).ToString(CultureInfo.InvariantCulture) + "." + (cents % 100).ToString("00", CultureInfo.InvariantCulture);
}
