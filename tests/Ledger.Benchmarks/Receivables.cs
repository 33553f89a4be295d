using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

/// <summary>
/// Receivables (--receivables): a book of its own with the standard chart, --customers customers created over the
/// connections, then a reference of two-line journal entries posted singly through the same connections and book, then
/// --invoices invoices created and issued in one call each (one or two lines on 4000, dated over one year, each for a
/// customer drawn at random), and last the aged receivables as of the last invoice date. Every figure carries the
/// machine's load average at its start and end, since the machine is shared.
/// </summary>
static class ReceivablesScenario
{
    private static readonly DateOnly FirstDate = new(2025, 1, 1);
    private const int Days = 365;
    private const int ReportCalls = 20;

    public static async Task<JsonObject> RunAsync(ApiServer server, HttpClient http, BenchmarkOptions options)
    {
        var result = new JsonObject();
        var bookId = await CreateBookAsync(http);
        result["book"] = bookId;

        // Customers: created first and timed apart, so the invoice rate is issuing alone.
        var customerIds = new long[options.Customers];
        var customerBodies = Enumerable.Range(0, options.Customers)
            .Select(i => new JsonObject { ["name"] = $"Customer {i:D5}" }.ToJsonString()).ToArray();
        var cpu = server.CpuSeconds();
        var customers = await ConcurrentPostsAsync(http, $"/v1/books/{bookId}/customers", customerBodies, options.Connections, "customer-",
            (i, body) => customerIds[i] = JsonNode.Parse(body)!["id"]!.GetValue<long>());
        customers["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
        result["customers"] = customers;
        Console.WriteLine($"receivables: customers: {customers.ToJsonString()}");
        if ((int)customers["failures"]! > 0) throw new InvalidOperationException("Creating customers failed; the reasons are above.");

        // The reference: what a plain two-line entry costs through the same connections, book and server, just before.
        var random = new Random(11);
        var entryBodies = Enumerable.Range(0, options.ReceivablesBaselinePosts).Select(i => JournalEntryJson(random, i)).ToArray();
        cpu = server.CpuSeconds();
        var entries = await ConcurrentPostsAsync(http, $"/v1/books/{bookId}/journal-entries", entryBodies, options.Connections, "je-", null);
        entries["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
        result["journalEntries"] = entries;
        Console.WriteLine($"receivables: baseline, single journal entries: {entries.ToJsonString()}");

        // Invoices: bodies and the expected totals drawn before the clock.
        random = new Random(12);
        var invoiceBodies = new string[options.Invoices];
        var grossOf = new long[options.Invoices];
        var invoiceDates = new DateOnly[options.Invoices];
        var lines = 0L;
        var lastDate = FirstDate;
        for (var i = 0; i < options.Invoices; i++)
        {
            var (body, gross, lineCount, date) = InvoiceJson(random, customerIds, i);
            invoiceBodies[i] = body;
            grossOf[i] = gross;
            invoiceDates[i] = date;
            lines += lineCount;
            if (date > lastDate) lastDate = date;
        }
        var issued = new bool[options.Invoices];
        // The ids and customers of the invoices that payments settle later (read from the answers only for those).
        var invoiceIds = new long[options.Payments];
        var invoiceCustomers = new long[options.Payments];
        cpu = server.CpuSeconds();
        var invoices = await ConcurrentPostsAsync(http, $"/v1/books/{bookId}/invoices", invoiceBodies, options.Connections, "invoice-",
            (i, body) =>
            {
                issued[i] = true;
                if (i >= options.Payments) return;
                var answer = JsonNode.Parse(body)!;
                invoiceIds[i] = answer["id"]!.GetValue<long>();
                invoiceCustomers[i] = answer["customer"]!.GetValue<long>();
            });
        invoices["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
        invoices["lines"] = lines;
        invoices["datedFrom"] = Date(FirstDate);
        invoices["datedTo"] = Date(lastDate);
        result["invoices"] = invoices;
        Console.WriteLine($"receivables: invoices: {invoices.ToJsonString()}");
        invoiceBodies = [];

        // What the report must say: every issued invoice is open, and nothing else is on the control account.
        var expectedTotal = 0L;
        var expectedItems = 0;
        for (var i = 0; i < issued.Length; i++)
        {
            if (!issued[i]) continue;
            expectedTotal += grossOf[i];
            expectedItems++;
        }
        result["agedReceivables"] = await AgedReceivablesAsync(http, bookId, Date(lastDate), Minor(expectedTotal), expectedItems);
        Console.WriteLine($"receivables: aged receivables: {result["agedReceivables"]!.ToJsonString()}");
        result["lists"] = await ListsAsync(http, bookId, customerIds[0]);
        Console.WriteLine($"receivables: lists: {result["lists"]!.ToJsonString()}");

        if (options.Payments > 0)
        {
            // Payments received, each settling one of the first invoices in full (a bank import's receipts), dated up
            // to 30 days after its invoice; then aging as of today must show what is left, still tied out.
            random = new Random(13);
            var paymentBodies = new string[options.Payments];
            var paidTotal = 0L;
            for (var i = 0; i < options.Payments; i++)
            {
                if (!issued[i]) throw new InvalidOperationException($"Invoice {i} was not issued; payments need the first --payments invoices.");
                paidTotal += grossOf[i];
                paymentBodies[i] = new JsonObject
                {
                    ["customer"] = invoiceCustomers[i],
                    ["date"] = Date(invoiceDates[i].AddDays(random.Next(31))),
                    ["amount"] = Minor(grossOf[i]),
                    ["account"] = "1010",
                    ["reference"] = $"BANK-{i}",
                    ["allocations"] = new JsonArray(new JsonObject { ["document"] = invoiceIds[i], ["amount"] = Minor(grossOf[i]) }),
                }.ToJsonString();
            }
            cpu = server.CpuSeconds();
            var payments = await ConcurrentPostsAsync(http, $"/v1/books/{bookId}/payments", paymentBodies, options.Connections, "payment-", null);
            payments["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
            result["payments"] = payments;
            Console.WriteLine($"receivables: payments: {payments.ToJsonString()}");
            if ((int)payments["failures"]! > 0) throw new InvalidOperationException("Recording payments failed; the reasons are above.");
            var url = $"/v1/books/{bookId}/reports/aged-receivables";
            var (aging, _, _) = await GetJsonAsync(http, url);
            Check(aging, url, Minor(expectedTotal - paidTotal));
        }
        result["serverPeakRssMB"] = server.PeakRssMegabytes();
        return result;
    }

    private static async Task<string> CreateBookAsync(HttpClient http)
    {
        var response = await http.PostAsync("/v1/books",
            Setup.Json(new JsonObject { ["name"] = "Receivables benchmark", ["currency"] = "EUR", ["chart"] = "standard" }));
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Creating the receivables book: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    private static async Task<JsonObject> AgedReceivablesAsync(HttpClient http, string bookId, string asOf, string expectedTotal, int expectedItems)
    {
        var url = $"/v1/books/{bookId}/reports/aged-receivables?asOf={asOf}";
        // The first call checks the figures; the timed calls check that they still tie out.
        var (first, firstMs, bytes) = await GetJsonAsync(http, url);
        var partyCount = first["parties"]!.AsArray().Count;
        Check(first, url, expectedTotal);
        var times = new double[ReportCalls];
        for (var i = 0; i < times.Length; i++)
        {
            var (report, ms, _) = await GetJsonAsync(http, url);
            Check(report, url, expectedTotal);
            times[i] = ms;
        }
        Array.Sort(times);

        // With every item listed: not a target, but what a client that asks for detail waits for.
        var detailUrl = url + "&detail=true";
        var detailTimes = new double[3];
        var detailBytes = 0L;
        for (var i = 0; i < detailTimes.Length; i++)
        {
            var (detail, ms, size) = await GetJsonAsync(http, detailUrl);
            Check(detail, detailUrl, expectedTotal);
            var items = detail["items"]!.AsArray().Count;
            if (items != expectedItems)
                throw new InvalidOperationException($"GET {detailUrl}: {items} open items, expected {expectedItems} (one per issued invoice).");
            detailTimes[i] = ms;
            detailBytes = size;
        }
        Array.Sort(detailTimes);

        // The same book's trial balance as of the same date, for reference.
        var trialUrl = $"/v1/books/{bookId}/reports/trial-balance?asOf={asOf}";
        var trialTimes = new double[ReportCalls];
        for (var i = 0; i < trialTimes.Length; i++) trialTimes[i] = (await GetJsonAsync(http, trialUrl)).Ms;
        Array.Sort(trialTimes);

        return new JsonObject
        {
            ["asOf"] = asOf,
            ["customersWithOpenItems"] = partyCount,
            ["openInvoices"] = expectedItems,
            ["total"] = first["totals"]!["total"]!.GetValue<string>(),
            ["controlAccountBalance"] = first["controlAccount"]!["balance"]!.GetValue<string>(),
            ["difference"] = first["difference"]!.GetValue<string>(),
            ["columns"] = first["totals"]!["columns"]!.DeepClone(),
            ["firstCallMs"] = Math.Round(firstMs, 2),
            ["responseKB"] = Math.Round(bytes / 1024.0, 1),
            ["medianMs"] = Math.Round(Scenarios.Percentile(times, 0.5), 2),
            ["minMs"] = Math.Round(times[0], 2),
            ["maxMs"] = Math.Round(times[^1], 2),
            ["calls"] = ReportCalls,
            ["detailMedianMs"] = Math.Round(Scenarios.Percentile(detailTimes, 0.5), 2),
            ["detailCalls"] = detailTimes.Length,
            ["detailResponseMB"] = Math.Round(detailBytes / (1024.0 * 1024), 1),
            ["trialBalanceSameDateMedianMs"] = Math.Round(Scenarios.Percentile(trialTimes, 0.5), 2),
            ["load"] = Load(),
        };
    }

    /// <summary>
    /// What a front end's list screens wait for: the first page of 500 invoices of the book, and one customer's
    /// invoices (about invoices / customers of them), each the median of <see cref="ReportCalls"/> calls.
    /// </summary>
    private static async Task<JsonObject> ListsAsync(HttpClient http, string bookId, long customer)
    {
        async Task<(double Median, int Items)> TimeAsync(string url)
        {
            var times = new double[ReportCalls];
            var items = 0;
            for (var i = 0; i < times.Length; i++)
            {
                var (page, ms, _) = await GetJsonAsync(http, url);
                items = page["items"]!.AsArray().Count;
                times[i] = ms;
            }
            Array.Sort(times);
            return (Math.Round(Scenarios.Percentile(times, 0.5), 2), items);
        }
        var firstPage = await TimeAsync($"/v1/books/{bookId}/invoices?limit=500");
        if (firstPage.Items != 500) throw new InvalidOperationException($"The first page of invoices held {firstPage.Items}, not 500.");
        var oneCustomer = await TimeAsync($"/v1/books/{bookId}/invoices?customer={customer}&limit=500");
        return new JsonObject
        {
            ["invoicesFirstPage500MedianMs"] = firstPage.Median,
            ["oneCustomerInvoicesMedianMs"] = oneCustomer.Median,
            ["oneCustomerInvoices"] = oneCustomer.Items,
            ["calls"] = ReportCalls,
            ["load"] = Load(),
        };
    }

    /// <summary>Fails loudly unless the subledger ties out to its control account and holds exactly the issued invoices.</summary>
    private static void Check(JsonNode report, string url, string expectedTotal)
    {
        var difference = report["difference"]?.GetValue<string>();
        var total = report["totals"]?["total"]?.GetValue<string>();
        var control = report["controlAccount"]?["balance"]?.GetValue<string>();
        if (difference != "0.00")
            throw new InvalidOperationException($"GET {url}: difference is {difference ?? "missing"}, not 0.00 (total {total}, control account {control}).");
        if (total is null || total != control)
            throw new InvalidOperationException($"GET {url}: totals.total {total ?? "missing"} differs from controlAccount.balance {control ?? "missing"}.");
        if (total != expectedTotal)
            throw new InvalidOperationException($"GET {url}: totals.total {total}, but the issued invoices add up to {expectedTotal}.");
    }

    private static async Task<(JsonNode Json, double Ms, long Bytes)> GetJsonAsync(HttpClient http, string url)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsByteArrayAsync();
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {url}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
        return (JsonNode.Parse(body)!, ms, body.Length);
    }

    /// <summary>
    /// One POST per body from <paramref name="connections"/> concurrent connections, each with its own Idempotency-Key;
    /// <paramref name="created"/> sees each 201's body. The first few failures are printed with the API's answer.
    /// </summary>
    public static async Task<JsonObject> ConcurrentPostsAsync(HttpClient http, string url, string[] bodies, int connections, string keyPrefix,
        Action<int, string>? created)
    {
        var total = bodies.Length;
        var latencies = new double[total];
        // When each request finished, in order of finishing: the rate over the first and the last tenth shows whether
        // it falls as the book grows.
        var finished = new double[total];
        var done = -1;
        var next = -1;
        var failures = 0;
        var loadBefore = Load();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= total) return;
                using var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = new StringContent(bodies[i], Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("Idempotency-Key", $"{keyPrefix}{i}");
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                finished[Interlocked.Increment(ref done)] = clock.Elapsed.TotalSeconds;
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    if (created is not null) created(i, await response.Content.ReadAsStringAsync());
                }
                else if (Interlocked.Increment(ref failures) <= 5)
                    Console.Error.WriteLine($"POST {url} #{i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        var tenth = total / 10;
        double? firstTenth = null, lastTenth = null;
        if (tenth >= 10)
        {
            firstTenth = Math.Round(tenth / finished[tenth - 1]);
            lastTenth = Math.Round(tenth / (finished[total - 1] - finished[total - 1 - tenth]));
        }
        return new JsonObject
        {
            ["requests"] = total,
            ["connections"] = connections,
            ["seconds"] = Math.Round(seconds, 2),
            ["perSecond"] = Math.Round(total / seconds),
            ["p50Ms"] = Math.Round(Scenarios.Percentile(latencies, 0.50), 2),
            ["p99Ms"] = Math.Round(Scenarios.Percentile(latencies, 0.99), 2),
            ["failures"] = failures,
            ["firstTenthPerSecond"] = firstTenth,
            ["lastTenthPerSecond"] = lastTenth,
            ["loadBefore"] = loadBefore,
            ["loadAfter"] = Load(),
        };
    }

    /// <summary>A two-line entry between the bank and other income, dated in the invoices' year (never on the control account).</summary>
    private static string JournalEntryJson(Random random, int i)
    {
        var amount = Minor(random.NextInt64(100, 500_000));
        return new JsonObject
        {
            ["date"] = Date(FirstDate.AddDays(random.Next(Days))),
            ["description"] = $"Cash sale {i}",
            ["reference"] = $"CS-{i}",
            ["lines"] = new JsonArray(
                new JsonObject { ["account"] = "1010", ["debit"] = amount },
                new JsonObject { ["account"] = "4900", ["credit"] = amount }),
        }.ToJsonString();
    }

    /// <summary>An invoice issued at once: one line, or two with the second for a whole quantity, no tax; its gross in minor units.</summary>
    private static (string Body, long Gross, int Lines, DateOnly Date) InvoiceJson(Random random, long[] customers, int i)
    {
        var date = FirstDate.AddDays(random.Next(Days));
        var price = random.NextInt64(100, 500_000);
        var lines = new JsonArray(new JsonObject { ["description"] = "Consulting", ["unitPrice"] = Minor(price), ["account"] = "4000" });
        var gross = price;
        if (random.Next(2) == 1)
        {
            var quantity = random.Next(1, 10);
            var unit = random.NextInt64(100, 20_000);
            lines.Add(new JsonObject
            {
                ["description"] = "Materials",
                ["quantity"] = quantity.ToString(CultureInfo.InvariantCulture),
                ["unitPrice"] = Minor(unit),
                ["account"] = "4000",
            });
            gross += quantity * unit;
        }
        var body = new JsonObject
        {
            ["customer"] = customers[random.Next(customers.Length)],
            ["date"] = Date(date),
            ["reference"] = $"PO-{i}",
            ["lines"] = lines,
            ["issue"] = true,
        };
        return (body.ToJsonString(), gross, lines.Count, date);
    }

    private static string Minor(long cents) =>
        (cents < 0 ? "-" : "") + (Math.Abs(cents) / 100).ToString(CultureInfo.InvariantCulture) + "." + (Math.Abs(cents) % 100).ToString("D2", CultureInfo.InvariantCulture);

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The 1-, 5- and 15-minute load averages (/proc/loadavg), as uptime shows them.</summary>
    public static string Load()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }
}
