using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.PartyReports;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Banking;

public sealed class MatchingTests(SharedApp shared) : SharedAppTest(shared)
{
    private async Task<(string Book, long Account)> BankAsync()
    {
        var book = await StandardBookAsync();
        return (book, await Admin.CreateBankAccountAsync(book));
    }

    private async Task<List<JsonNode>> ImportAsync(string book, long account, string query, params BankLine[] lines) =>
        (await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, lines), query))["lines"]!.AsArray().Select(l => l!).ToList();

    private Task<JsonNode> LineAsync(string book, long line) => Admin.GetJsonAsync($"{BankFiles.Url(book, "statement-lines")}/{line}");

    [Fact]
    public async Task A_line_matches_an_entry_a_script_already_posted_and_the_undo_frees_both()
    {
        var (book, account) = await BankAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-03-03", "Card fee (script)", ("6900", "12.50", null), ("1010", null, "12.50"));
        var line = (await ImportAsync(book, account, "?applyRules=false", new BankLine("2026-03-04", "-12.50", "Fee")))[0].Id();

        // The posting must be on the bank's account, of the line's amount.
        await (await Admin.MatchAsync(book, line, new { posting = new { entryId = entry.Id(), line = 0 } })).AssertValidationErrorAsync("posting.line");
        var matched = await (await Admin.MatchAsync(book, line, new { posting = new { entryId = entry.Id(), line = 1 } })).AssertCreatedAsync();
        Assert.Equal(("matched", "posting", entry.Id()), (matched.Str("status"), matched["match"].Str("kind"), matched["match"]!["entryId"]!.GetValue<long>()));
        // A line matches once; a posting is matched once.
        await (await Admin.MatchAsync(book, line, new { account = "6900" })).AssertProblemAsync(HttpStatusCode.Conflict);
        var twin = (await ImportAsync(book, account, "?applyRules=false", new BankLine("2026-03-05", "-12.50", "Fee again")))[0].Id();
        await (await Admin.MatchAsync(book, twin, new { posting = new { entryId = entry.Id(), line = 1 } })).AssertProblemAsync(HttpStatusCode.Conflict);

        var entriesBefore = (await App.AllEntriesAsync(book)).Count;
        var undone = await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/match")).Content.ReadAsStringAsync();
        Assert.Contains("\"unmatched\"", undone);
        Assert.Equal(entriesBefore, (await App.AllEntriesAsync(book)).Count); // nothing was created, so nothing is reversed
        await (await Admin.MatchAsync(book, twin, new { posting = new { entryId = entry.Id(), line = 1 } })).AssertCreatedAsync();
        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/match")).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task An_overpaid_line_leaves_the_rest_as_credit_and_a_returned_direct_debit_is_voided_on_the_day_it_went_back()
    {
        var (book, account) = await BankAsync();
        var customer = await App.CreateCustomerAsync(book, "Umbrella");
        var invoice = await Admin.InvoiceAsync(book, customer, "2026-02-01", "1856.00");
        var lines = await ImportAsync(book, account, "?autoMatch=false&applyRules=false",
            new BankLine("2026-03-02", "1900.00", "Umbrella direct debit", "DD-1", "Umbrella KG"),
            new BankLine("2026-03-09", "-1900.00", "Return of direct debit DD-1", "DD-1-R", "Umbrella KG"));
        var (collection, returned) = (lines[0].Id(), lines[1].Id());

        // 1,900.00 came in for an invoice of 1,856.00: the invoice is paid and 44.00 stays on the customer as credit.
        var matched = await (await Admin.MatchAsync(book, collection, new { documents = new[] { new { id = invoice, amount = "1856.00" } } })).AssertCreatedAsync();
        var paymentUrl = $"{BankFiles.Url(book, "payments")}/{matched["match"]!["payment"]!.GetValue<long>()}";
        var payment = await Admin.GetJsonAsync(paymentUrl);
        Assert.Equal(("1900.00", "1856.00", "44.00"), (payment.Str("amount"), payment.Str("allocated"), payment.Str("unallocated")));
        Assert.Equal("0.00", (await Admin.GetJsonAsync($"{BankFiles.Url(book, "invoices")}/{invoice}")).Str("amountDue"));

        // A week later the bank takes it back. Voiding on the payment's own day is the undo of the match, refused here...
        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "allocations")}/{payment["allocations"]![0]!["id"]}")).ReadJsonAsync();
        var refused = await (await Admin.PostJsonAsync($"{paymentUrl}/void", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("came back", refused.ToJsonString());
        // ...while the day it went back voids it then: the collection stays matched, the return is matched to the void.
        await (await Admin.PostJsonAsync($"{paymentUrl}/void", new { date = "2026-03-09" })).AssertCreatedAsync();
        var voidEntry = (await App.AllEntriesAsync(book)).Single(e => e["description"]!.GetValue<string>() == $"Void of payment {payment.Id()}");
        Assert.Equal("2026-03-09", voidEntry.Str("date"));
        await (await Admin.MatchAsync(book, returned, new { posting = new { entryId = voidEntry.Id(), line = 0 } })).AssertCreatedAsync();
        Assert.Equal(("matched", "matched"), ((await LineAsync(book, collection)).Str("status"), (await LineAsync(book, returned)).Str("status")));
        Assert.Equal("1856.00", (await Admin.GetJsonAsync($"{BankFiles.Url(book, "invoices")}/{invoice}")).Str("amountDue"));
        Assert.Equal("0.00", (await App.AccountAsync(book, "1010"))["balance"]!.GetValue<string>());
        Assert.Equal("1856.00", (await App.AccountAsync(book, "1200"))["balance"]!.GetValue<string>());

        // A reversal on its entry's own date takes back a mistake, not money: no line matches it, nor the entry it undid.
        var mistake = await App.PostEntryOkAsync(book, "2026-03-10", "Posted twice", ("1010", "5.00", null), ("4000", null, "5.00"));
        var undone = await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{mistake.Id()}/reverse", """{"date":"2026-03-10"}""")).AssertCreatedAsync();
        var fees = await ImportAsync(book, account, "?autoMatch=false&applyRules=false",
            new BankLine("2026-03-10", "-5.00", "Fee", "F-5"), new BankLine("2026-03-10", "5.00", "Refund", "F-6"));
        await (await Admin.MatchAsync(book, fees[0].Id(), new { posting = new { entryId = undone.Id(), line = 0 } })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.MatchAsync(book, fees[1].Id(), new { posting = new { entryId = mistake.Id(), line = 0 } })).AssertProblemAsync(HttpStatusCode.Conflict);

        // The two lines go together: the collection's match is not undone while the return is matched to the void...
        var together = await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{collection}/match")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains($"Statement line {returned}", together.ToJsonString());
        // ...the return's first, then the collection's, which voids nothing twice (the payment is void already); and both
        // match again, each to its own entry: the payment came in, its void went out.
        Assert.Equal(HttpStatusCode.OK, (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{returned}/match")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{collection}/match")).StatusCode);
        Assert.Equal("unmatched", (await LineAsync(book, collection)).Str("status"));
        Assert.Equal("1856.00", (await App.AccountAsync(book, "1200"))["balance"]!.GetValue<string>());
        await (await Admin.MatchAsync(book, collection, new { posting = new { entryId = payment["journalEntryId"]!.GetValue<long>(), line = 0 } })).AssertCreatedAsync();
        await (await Admin.MatchAsync(book, returned, new { posting = new { entryId = voidEntry.Id(), line = 0 } })).AssertCreatedAsync();
        Assert.Equal("0.00", (await App.AccountAsync(book, "1010"))["balance"]!.GetValue<string>());

        // Recorded by hand and voided on the day it went back before the statement came: both lines match all the same.
        var byHand = await (await Admin.PostJsonAsync(BankFiles.Url(book, "payments"), new { customer, date = "2026-03-16", amount = "500.00", account = "1010" })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "payments")}/{byHand.Id()}/void", new { date = "2026-04-10" })).AssertCreatedAsync();
        var handVoid = (await App.AllEntriesAsync(book)).Single(e => e["description"]!.GetValue<string>() == $"Void of payment {byHand.Id()}");
        var later = await ImportAsync(book, account, "?autoMatch=false&applyRules=false",
            new BankLine("2026-03-16", "500.00", "Umbrella transfer", "TR-2"), new BankLine("2026-04-10", "-500.00", "Return of TR-2", "TR-2-R"));
        await (await Admin.MatchAsync(book, later[0].Id(), new { posting = new { entryId = byHand["journalEntryId"]!.GetValue<long>(), line = 0 } })).AssertCreatedAsync();
        await (await Admin.MatchAsync(book, later[1].Id(), new { posting = new { entryId = handVoid.Id(), line = 0 } })).AssertCreatedAsync();

        // A bank-import script's own entry, matched, whose money came back: reversed on the later day (not on its own,
        // which is the match's to undo), and the return matched to the reversal.
        var scripted = await App.PostEntryOkAsync(book, "2026-03-20", "Collection", ("1010", "20.00", null), ("4000", null, "20.00"));
        var pair = await ImportAsync(book, account, "?autoMatch=false&applyRules=false",
            new BankLine("2026-03-20", "20.00", "Collection", "C-20"), new BankLine("2026-03-25", "-20.00", "Return of C-20", "C-20-R"));
        await (await Admin.MatchAsync(book, pair[0].Id(), new { posting = new { entryId = scripted.Id(), line = 0 } })).AssertCreatedAsync();
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{scripted.Id()}/reverse", """{"date":"2026-03-20"}""")).AssertProblemAsync(HttpStatusCode.Conflict);
        var back = await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{scripted.Id()}/reverse", """{"date":"2026-03-25"}""")).AssertCreatedAsync();
        await (await Admin.MatchAsync(book, pair[1].Id(), new { posting = new { entryId = back.Id(), line = 0 } })).AssertCreatedAsync();
        var verified = await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task Matching_to_invoices_creates_a_payment_on_the_booking_date_and_the_undo_voids_it()
    {
        var (book, account) = await BankAsync();
        var customer = await App.CreateCustomerAsync(book, "Globex");
        var first = await Admin.InvoiceAsync(book, customer, "2026-02-01", "700.00");
        var second = await Admin.InvoiceAsync(book, customer, "2026-02-10", "500.00");
        var line = (await ImportAsync(book, account, "?autoMatch=false&applyRules=false",
            new BankLine("2026-03-02", "1000.00", "Globex payment", "R1", "Globex Ltd")))[0].Id();

        await (await Admin.MatchAsync(book, line, new { documents = new[] { new { id = first, amount = "700.00" }, new { id = second, amount = "400.00" } } }))
            .AssertValidationErrorAsync("documents");
        var matched = await (await Admin.MatchAsync(book, line,
            new { documents = new[] { new { id = first, amount = "700.00" }, new { id = second, amount = "300.00" } } })).AssertCreatedAsync();
        var payment = await Admin.GetJsonAsync($"{BankFiles.Url(book, "payments")}/{matched["match"]!["payment"]!.GetValue<long>()}");
        Assert.Equal(("2026-03-02", "1000.00", "1010", "1000.00"), (payment.Str("date"), payment.Str("amount"), payment.Str("account"), payment.Str("allocated")));
        var invoice = await Admin.GetJsonAsync($"{BankFiles.Url(book, "invoices")}/{second}");
        Assert.Equal("200.00", invoice.Str("amountDue"));
        Assert.Equal("1000.00", (await App.AccountAsync(book, "1010"))["balance"]!.GetValue<string>());

        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/match")).Content.ReadAsStringAsync();
        Assert.Equal("unmatched", (await LineAsync(book, line)).Str("status"));
        Assert.Equal("void", (await Admin.GetJsonAsync($"{BankFiles.Url(book, "payments")}/{payment.Id()}")).Str("status"));
        Assert.Equal("500.00", (await Admin.GetJsonAsync($"{BankFiles.Url(book, "invoices")}/{second}")).Str("amountDue"));
        Assert.Equal("0.00", (await App.AccountAsync(book, "1010"))["balance"]!.GetValue<string>());
        Assert.Equal("1200.00", (await App.AccountAsync(book, "1200"))["balance"]!.GetValue<string>());

        // Money out settles bills; an invoice on a money-out line is refused.
        var vendor = await App.CreateVendorAsync(book, "Landlord");
        var bill = await Admin.BillAsync(book, vendor, "2026-02-01", "300.00");
        var rent = (await ImportAsync(book, account, "?autoMatch=false", new BankLine("2026-03-05", "-300.00", "Rent", "R2")))[0].Id();
        await (await Admin.MatchAsync(book, rent, new { documents = new[] { new { id = first, amount = "300.00" } } })).AssertValidationErrorAsync("documents[0].id");
        await (await Admin.MatchAsync(book, rent, new { documents = new[] { new { id = bill, amount = "300.00" } } })).AssertCreatedAsync();
        Assert.Equal("0.00", (await Admin.GetJsonAsync($"{BankFiles.Url(book, "bills")}/{bill}")).Str("amountDue"));
        // A history of payments made, voided and remade, with allocations undone, is one the audit vouches for.
        var verified = await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task An_entry_a_statement_line_posted_names_no_document_that_shares_the_lines_id()
    {
        // Documents and statement lines are numbered apart, so a line and a document can have the same id: the entry a
        // line posts must not take that document's number as its source's. Draw ids on both sides until they meet.
        var (book, account) = await BankAsync();
        var customer = await App.CreateCustomerAsync(book, "Same id");
        var line = (await ImportAsync(book, account, "", new BankLine("2026-03-06", "-1.00", "Fee 0", "SAME-0")))[0].Id();
        var document = await Admin.DocumentAsync(book, "invoices", customer, "2026-03-06", [new Line("1.00")]);
        for (var i = 1; document != line && i < 400; i++)
            if (document < line) document = await Admin.DocumentAsync(book, "invoices", customer, "2026-03-06", [new Line("1.00")]);
            else line = (await ImportAsync(book, account, "", new BankLine("2026-03-06", "-1.00", $"Fee {i}", $"SAME-{i}")))[0].Id();
        Assert.Equal(document, line);
        var matched = await (await Admin.MatchAsync(book, line, new { account = "6900" })).AssertCreatedAsync();
        var source = (await Admin.GetJsonAsync($"{EntriesUrl(book)}/{matched["match"]!["entryId"]}"))["source"]!;
        Assert.Equal(("statement_line", line), (source.Str("type"), source["id"]!.GetValue<long>()));
        Assert.Null(source["number"]);
    }

    [Fact]
    public async Task Coding_a_line_to_an_account_posts_an_entry_with_tax_split_out_and_the_undo_reverses_it_on_its_date()
    {
        var (book, account) = await BankAsync();
        await Admin.TaxRateAsync(book, "VAT19", "19", "2100", "1400");
        var line = (await ImportAsync(book, account, "", new BankLine("2026-03-06", "-119.00", "Software subscription", "SUB-1")))[0].Id();
        await (await Admin.MatchAsync(book, line, new { account = "1010" })).AssertValidationErrorAsync("account");
        // The receivables control account: a 400 on account, as a bank rule gets, not the posting's 409 about a missing customer.
        await (await Admin.MatchAsync(book, line, new { account = "1200" })).AssertValidationErrorAsync("account");
        await (await Admin.MatchAsync(book, line, new { account = "6900", posting = new { entryId = 1, line = 0 } })).AssertValidationErrorAsync("body");
        var matched = await (await Admin.MatchAsync(book, line, new { account = "6900", taxRate = "VAT19", description = "Tooling" })).AssertCreatedAsync();
        var entry = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{matched["match"]!["entryId"]}");
        Assert.Equal(("2026-03-06", "Tooling", "SUB-1", "statement_line"), (entry.Str("date"), entry.Str("description"), entry.Str("reference"), entry["source"].Str("type")));
        Assert.Equal("100.00", (await App.AccountAsync(book, "6900"))["balance"]!.GetValue<string>());
        Assert.Equal("19.00", (await App.AccountAsync(book, "1400"))["balance"]!.GetValue<string>());
        // The tax it split out is in the tax return with its rate, as a bill's would be: money out, so purchase tax.
        var march = $"/v1/books/{book}/reports/tax-summary?from=2026-03-01&to=2026-03-31";
        var summary = await Admin.GetJsonAsync(march);
        var vat = summary["rates"]!.AsArray().Single(r => r!["taxRate"]?.GetValue<string>() == "VAT19")!;
        Assert.Equal(("100.00", "19.00", "0.00"), (vat["purchases"].Str("net"), vat["purchases"].Str("tax"), vat["sales"].Str("tax")));
        Assert.Equal("-19.00", summary["totals"].Str("netTaxDue"));

        // Locked, the undo (dated the match's day by the server) says what can be done rather than "date the entry later".
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = "2026-03-31" })).StatusCode);
        var locked = await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/match")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("moves the lock date back", locked.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsync($"/v1/books/{book}/lock-date",
            new StringContent("""{"date":null}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/match")).Content.ReadAsStringAsync();
        // Undone, its reversal takes the tax back out on the same day.
        Assert.Equal("0.00", (await Admin.GetJsonAsync(march))["totals"]!["purchases"].Str("tax"));
        var reversed = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{matched["match"]!["entryId"]}");
        Assert.NotNull(reversed["reversedBy"]);
        var reversal = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{reversed["reversedBy"]}");
        Assert.Equal("2026-03-06", reversal.Str("date"));
        Assert.Equal("0.00", (await App.AccountAsync(book, "6900"))["balance"]!.GetValue<string>());
        Assert.Equal("0.00", (await App.AccountAsync(book, "1010"))["balance"]!.GetValue<string>());
        // Matched again, it posts a new entry: the match is idempotent per live match, not forever.
        await (await Admin.MatchAsync(book, line, new { account = "6900" })).AssertCreatedAsync();
        Assert.Equal("119.00", (await App.AccountAsync(book, "6900"))["balance"]!.GetValue<string>());
        var verified = await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task Concurrent_matches_of_one_line_leave_one_match_and_one_entry()
    {
        var (book, account) = await BankAsync();
        var line = (await ImportAsync(book, account, "", new BankLine("2026-03-07", "-9.99", "Fee", "F-1")))[0].Id();
        var before = (await App.AllEntriesAsync(book)).Count;
        var attempts = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Admin.MatchAsync(book, line, new { account = i % 2 == 0 ? "6900" : "6000" })));
        Assert.Equal(1, attempts.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(11, attempts.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(before + 1, (await App.AllEntriesAsync(book)).Count);
        // The same request retried with its Idempotency-Key answers the first answer again, and posts nothing.
        var other = (await ImportAsync(book, account, "", new BankLine("2026-03-08", "-1.00", "Fee", "F-2")))[0].Id();
        var one = await Admin.MatchAsync(book, other, new { account = "6900" }, "match-key");
        var again = await Admin.MatchAsync(book, other, new { account = "6900" }, "match-key");
        Assert.Equal(await one.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(before + 2, (await App.AllEntriesAsync(book)).Count);
    }

    [Fact]
    public async Task Import_auto_matches_a_line_naming_exactly_one_open_invoice_of_exactly_its_amount()
    {
        var (book, account) = await BankAsync();
        var customer = await App.CreateCustomerAsync(book, "Initech");
        var invoice = await Admin.InvoiceAsync(book, customer, "2026-02-01", "250.00");
        var number = (await Admin.GetJsonAsync($"{BankFiles.Url(book, "invoices")}/{invoice}")).Str("number");
        var other = await Admin.InvoiceAsync(book, customer, "2026-02-02", "99.00");
        var otherNumber = (await Admin.GetJsonAsync($"{BankFiles.Url(book, "invoices")}/{other}")).Str("number");
        var result = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null,
            new BankLine("2026-03-02", "250.00", $"Payment {number} thanks", "A1"),           // names it, exact amount: matched
            new BankLine("2026-03-03", "98.00", $"Payment {otherNumber}", "A2"),              // names one, wrong amount: left
            new BankLine("2026-03-04", "99.00", $"{number} and {otherNumber}", "A3"),        // names two: left
            new BankLine("2026-03-05", "99.00", "no reference at all", "A4")));
        Assert.Equal(1, result["autoMatched"]!.GetValue<int>());
        Assert.Equal(["matched", "unmatched", "unmatched", "unmatched"], result["lines"]!.AsArray().Select(l => l.Str("status")));
        Assert.Equal("0.00", (await Admin.GetJsonAsync($"{BankFiles.Url(book, "invoices")}/{invoice}")).Str("amountDue"));

        var off = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, new BankLine("2026-03-06", "99.00", $"Paying {otherNumber}", "A5")), "?autoMatch=false");
        Assert.Equal("unmatched", off["lines"]![0].Str("status"));

        // Suggestions rank the invoice the text names with the open amount first, with reasons.
        var suggestions = await Admin.GetJsonAsync($"{BankFiles.Url(book, "statement-lines")}/{off["lines"]![0].Id()}/suggestions");
        var top = suggestions["items"]![0]!;
        Assert.Equal(("document", other), (top.Str("kind"), top["document"]!["id"]!.GetValue<long>()));
        Assert.Equal(2, top["reasons"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_direct_debit_naming_the_vendors_own_bill_number_is_matched_to_that_bill()
    {
        var (book, account) = await BankAsync();
        var vendor = await App.CreateVendorAsync(book, "Stadtwerke");
        async Task<long> BillAsync(string vendorReference, string amount) =>
            (await (await Admin.PostRawAsync(BankFiles.Url(book, "bills"), $$"""
                {"vendor":{{vendor}},"date":"2026-09-01","issue":true,"vendorReference":"{{vendorReference}}",
                 "lines":[{"description":"Power","unitPrice":"{{amount}}","account":"6000"}]}
                """)).AssertCreatedAsync()).Id();
        var power = await BillAsync("SW-2026-09-4471", "238.00");
        var water = await BillAsync("SW-2026-09-4472", "61.00");
        var result = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null,
            new BankLine("2026-09-15", "-238.00", "SEPA Lastschrift SW-2026-09-4471 Strom", "DD-1")));
        Assert.Equal(1, result["autoMatched"]!.GetValue<int>());
        Assert.Equal("0.00", (await Admin.GetJsonAsync($"{BankFiles.Url(book, "bills")}/{power}")).Str("amountDue"));

        // Suggestions give the vendor's number as the reason, and name it.
        var off = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null,
            new BankLine("2026-09-16", "-60.00", "Wasser sw-2026-09-4472", "DD-2")), "?autoMatch=false");
        var top = (await Admin.GetJsonAsync($"{BankFiles.Url(book, "statement-lines")}/{off["lines"]![0].Id()}/suggestions"))["items"]![0]!;
        Assert.Equal(water, top["document"]!["id"]!.GetValue<long>());
        Assert.Equal("SW-2026-09-4472", top["document"].Str("vendorReference"));
        Assert.Contains("The text names the vendor's reference SW-2026-09-4472.", top["reasons"]!.AsArray().Select(r => r!.GetValue<string>()));
    }

    [Fact]
    public async Task Suggestions_offer_unmatched_postings_of_the_same_amount_within_a_week()
    {
        var (book, account) = await BankAsync();
        var near = await App.PostEntryOkAsync(book, "2026-03-01", "Transfer out", ("1000", "80.00", null), ("1010", null, "80.00"));
        await App.PostEntryOkAsync(book, "2026-02-01", "Too early", ("1000", "80.00", null), ("1010", null, "80.00"));
        await App.PostEntryOkAsync(book, "2026-03-02", "Other amount", ("1000", "81.00", null), ("1010", null, "81.00"));
        var line = (await ImportAsync(book, account, "", new BankLine("2026-03-04", "-80.00", "Transfer", "T1")))[0].Id();
        var suggestions = (await Admin.GetJsonAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/suggestions"))["items"]!.AsArray();
        var posting = Assert.Single(suggestions, s => s.Str("kind") == "posting");
        Assert.Equal((near.Id(), 1), (posting!["posting"]!["entryId"]!.GetValue<long>(), posting["posting"]!["line"]!.GetValue<int>()));
        Assert.Contains("3 days", posting["reasons"]!.ToJsonString());
    }

    [Fact]
    public async Task Rules_code_lines_at_import_and_on_demand_by_priority()
    {
        var (book, account) = await BankAsync();
        var fees = await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Bank fees", priority = 10,
            conditions = new object[] { new { field = "description", op = "contains", value = "fee" }, new { field = "amount", op = "between", value = new[] { "-50.00", "-0.01" } } },
            action = new { account = "6900", description = "Bank fee" },
        });
        // Its Location answers with what the 201 did.
        Assert.True(JsonNode.DeepEquals(await fees.AssertCreatedAsync(), await Admin.GetJsonAsync(fees.Headers.Location!.ToString())));
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Everything with fee", priority = 20, conditions = new[] { new { field = "description", op = "contains", value = "fee" } },
            action = new { account = "6000" },
        })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Bad", priority = 1, conditions = new[] { new { field = "amount", op = "contains", value = "1" } }, action = new { account = "6900" },
        })).AssertValidationErrorAsync("conditions[0].op");
        // Amounts follow the API's one rule: a plain decimal, no plus sign.
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Plus", priority = 1, conditions = new[] { new { field = "amount", op = "equals", value = "+4.90" } }, action = new { account = "6900" },
        })).AssertValidationErrorAsync("conditions[0].value");
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Plus range", priority = 1, conditions = new[] { new { field = "amount", op = "between", value = new[] { "+1.00", "5.00" } } },
            action = new { account = "6900" },
        })).AssertValidationErrorAsync("conditions[0].value");
        // A condition's value is free JSON, so it gets the text rules here: no control characters, no broken UTF-16 (a 400, not a 500).
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Escape", priority = 1, conditions = new[] { new { field = "description", op = "contains", value = "fee\u001b[31m" } },
            action = new { account = "6900" },
        })).AssertValidationErrorAsync("conditions[0].value");
        foreach (var (field, op) in new[] { ("reference", "equals"), ("amount", "equals") })
        {
            var response = await Admin.PostRawAsync(BankFiles.Url(book, "bank-rules"),
                "{\"name\":\"Surrogate\",\"priority\":1,\"conditions\":[{\"field\":\"" + field + "\",\"op\":\"" + op +
                "\",\"value\":\"\\ud800\"}],\"action\":{\"account\":\"6900\"}}");
            await response.AssertValidationErrorAsync("conditions[0].value");
        }
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Control", priority = 1, conditions = new[] { new { field = "reference", op = "equals", value = "x" } }, action = new { account = "1200" },
        })).AssertValidationErrorAsync("action.account");

        var imported = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null,
            new BankLine("2026-03-02", "-4.90", "Monthly FEE", "B1"),
            new BankLine("2026-03-03", "-120.00", "Big fee", "B2"),
            new BankLine("2026-03-04", "-5.00", "Lunch", "B3")));
        Assert.Equal(2, imported["matchedByRules"]!.GetValue<int>());
        Assert.Equal("4.90", (await App.AccountAsync(book, "6900"))["balance"]!.GetValue<string>());
        Assert.Equal("120.00", (await App.AccountAsync(book, "6000"))["balance"]!.GetValue<string>());
        var lunch = imported["lines"]![2]!;
        Assert.Equal("unmatched", lunch.Str("status"));

        var skipped = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, new BankLine("2026-03-05", "-2.00", "Card fee", "B4")), "?applyRules=false");
        Assert.Equal("unmatched", skipped["lines"]![0].Str("status"));
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-rules"), new
        {
            name = "Lunch", priority = 5, conditions = new[] { new { field = "description", op = "startsWith", value = "lun" } }, action = new { account = "6000" },
        })).AssertCreatedAsync();
        var applied = await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/apply-rules", new { })).Content.ReadAsStringAsync();
        var result = JsonNode.Parse(applied)!;
        Assert.Equal((2, 2), (result["examined"]!.GetValue<int>(), result["matched"]!.GetValue<int>()));
        Assert.Empty(await Admin.LinesAsync(book, account, "&status=unmatched"));

        var rules = (await Admin.GetJsonAsync(BankFiles.Url(book, "bank-rules"))).AsArray();
        Assert.Equal(["Lunch", "Bank fees", "Everything with fee"], rules.Select(r => r.Str("name")));
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{BankFiles.Url(book, "bank-rules")}/{rules[0].Id()}")).StatusCode);
        Assert.Equal(2, (await Admin.GetJsonAsync(BankFiles.Url(book, "bank-rules"))).AsArray().Count);
    }

    [Fact]
    public async Task An_ignored_line_cannot_be_matched_until_it_is_unignored()
    {
        var (book, account) = await BankAsync();
        var line = (await ImportAsync(book, account, "", new BankLine("2026-03-02", "-1.00", "Bank error", "E1")))[0].Id();
        var ignored = JsonNode.Parse(await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/ignore", new { })).Content.ReadAsStringAsync())!;
        Assert.Equal("ignored", ignored.Str("status"));
        await (await Admin.MatchAsync(book, line, new { account = "6900" })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Single(await Admin.LinesAsync(book, account, "&status=ignored"));
        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/ignore")).Content.ReadAsStringAsync();
        await (await Admin.MatchAsync(book, line, new { account = "6900" })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "statement-lines")}/{line}/ignore", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
    }
    [Fact]
    public async Task What_a_line_is_matched_to_cannot_be_voided_or_reversed_behind_the_match()
    {
        var (book, account) = await BankAsync();
        var customer = await App.CreateCustomerAsync(book, "Globex");
        var invoice = await Admin.InvoiceAsync(book, customer, "2026-02-01", "700.00");
        var lines = await ImportAsync(book, account, "?autoMatch=false&applyRules=false",
            new BankLine("2026-03-02", "700.00", "Globex", "V1"), new BankLine("2026-03-03", "-12.50", "Fee", "V2"), new BankLine("2026-03-04", "-80.00", "To till", "V3"));
        var paid = await (await Admin.MatchAsync(book, lines[0].Id(), new { documents = new[] { new { id = invoice, amount = "700.00" } } })).AssertCreatedAsync();
        var payment = paid["match"]!["payment"]!.GetValue<long>();
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "payments")}/{payment}/void", new { })).AssertProblemAsync(HttpStatusCode.Conflict);

        var fee = await App.PostEntryOkAsync(book, "2026-03-03", "Fee (script)", ("6900", "12.50", null), ("1010", null, "12.50"));
        await (await Admin.MatchAsync(book, lines[1].Id(), new { posting = new { entryId = fee.Id(), line = 1 } })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync($"{EntriesUrl(book)}/{fee.Id()}/reverse", new { })).AssertProblemAsync(HttpStatusCode.Conflict);

        // A transfer to the till: the bank line creates the entry, the till's line is matched to its other side.
        var till = await Admin.CreateBankAccountAsync(book, "1000", iban: null, kind: "cash", name: "Till");
        var transfer = await (await Admin.MatchAsync(book, lines[2].Id(), new { account = "1000" })).AssertCreatedAsync();
        var tillLine = (await Admin.ImportOkAsync(book, till, BankFiles.Camt(null, null, new BankLine("2026-03-04", "80.00", "From bank", "T1")).Replace(BankFiles.Iban, "DE02120300000000202051"), "?applyRules=false"))["lines"]![0].Id();
        await (await Admin.MatchAsync(book, tillLine, new { posting = new { entryId = transfer["match"]!["entryId"]!.GetValue<long>(), line = 1 } })).AssertCreatedAsync();
        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{lines[2].Id()}/match")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{tillLine}/match")).Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{lines[2].Id()}/match")).StatusCode);
        Assert.Equal("0.00", (await App.AccountAsync(book, "1000"))["balance"]!.GetValue<string>());
    }

    [Fact]
    public async Task Two_lines_with_one_reference_date_and_amount_in_one_file_both_import_and_a_zero_line_needs_no_entry()
    {
        var (book, account) = await BankAsync();
        var result = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null,
            new BankLine("2026-03-02", "-5.00", "Parking", "SAME"), new BankLine("2026-03-02", "-5.00", "Parking", "SAME"), new BankLine("2026-03-03", "0.00", "Info", "Z")));
        Assert.Equal(3, result["imported"]!.GetValue<int>());
        var again = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, new BankLine("2026-03-02", "-5.00", "Parking", "SAME"), new BankLine("2026-03-04", "1.00", "New", "N")));
        Assert.Equal(["duplicate", "new"], again["lines"]!.AsArray().Select(l => l.Str("import")));
        var zero = result["lines"]![2].Id();
        await (await Admin.MatchAsync(book, zero, new { account = "6900" })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.MatchAsync(book, zero, new { documents = new object?[] { null } })).AssertValidationErrorOnAnyAsync("documents[0]");
    }
}
