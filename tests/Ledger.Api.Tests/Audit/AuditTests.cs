using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Ledger.Api.Tests.Banking;
using Ledger.Api.Tests.PartyReports;
using Ledger.Api.Tests.Support;
using Ledger.Api.Features.Audit;

namespace Ledger.Api.Tests.Audit;

public sealed class AuditTests(SharedApp shared) : SharedAppTest(shared)
{
    private Task<JsonNode> VerifyAsync(string book) => Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");

    private async Task<List<JsonNode>> EventsAsync(string book, string query = "")
    {
        var page = await Admin.GetJsonAsync($"/v1/books/{book}/events?limit=1000{query}");
        return page["items"]!.AsArray().Select(e => e!).ToList();
    }

    /// <summary>A book with entries, a document, a payment and an allocation: each kind of row the audit checks.</summary>
    private async Task<(string Book, long EntryId, long Invoice)> BusyBookAsync()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        await App.PostEntryOkAsync(book, "2026-01-06", "Rent", ("6000", "800.00", null), ("1010", null, "800.00"));
        var customer = await App.CreateCustomerAsync(book, "Globex");
        var invoice = await Admin.InvoiceAsync(book, customer, "2026-01-10", "1190.00");
        await Admin.PaymentAsync(book, customer, customer: true, "2026-01-20", "1190.00", allocations: (invoice, "1190.00"));
        // A real draft, which the invoice issued at once never was.
        await Admin.DocumentAsync(book, "invoices", customer, "2026-01-25", [new Line("50.00")], issue: false);
        return (book, entry.Id(), invoice);
    }

    private async Task TamperAsync(string sql, object args)
    {
        await using var connection = await TestDatabase.OpenWritableAsync(App.DatabasePath);
        Assert.Equal(1, await connection.ExecuteAsync(sql, args));
    }

    /// <summary>
    /// A change that a foreign key refuses on SQLite (which keeps them) and PostgreSQL lets through (migration 0015): on
    /// SQLite it is first shown refused, then made with the keys off, as someone at the file could, and the keys turned on
    /// again before the pooled connection goes back.
    /// </summary>
    private async Task TamperPastKeysAsync(string sql, object args)
    {
        await using var connection = await TestDatabase.OpenWritableAsync(App.DatabasePath);
        if (connection is not SqliteConnection)
        {
            Assert.Equal(1, await connection.ExecuteAsync(sql, args));
            return;
        }
        await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync(sql, args));
        await connection.ExecuteAsync("PRAGMA foreign_keys = OFF");
        try { Assert.Equal(1, await connection.ExecuteAsync(sql, args)); }
        finally { await connection.ExecuteAsync("PRAGMA foreign_keys = ON"); }
    }

    [Fact]
    public async Task Every_change_appends_one_event_in_a_gapless_sequence_that_a_client_can_resume()
    {
        var (book, entryId, invoice) = await BusyBookAsync();
        var events = await EventsAsync(book);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e["sequence"]!.GetValue<long>()));
        var types = events.Select(e => e.Str("type")).ToList();
        Assert.Contains("journal_entry.posted", types);
        Assert.Contains("customer.created", types);
        Assert.Contains("document.drafted", types);
        Assert.Contains("document.issued", types);
        Assert.Contains("payment.recorded", types);
        Assert.Contains("allocation.made", types);
        // The invoice was issued by the call that created it: it never was a draft, so its one event says it was issued.
        Assert.Equal(["document.issued"], events.Where(e => e["subject"].Str("type") == "document" && e["subject"].Str("id") == invoice.ToString())
            .Select(e => e.Str("type")));
        var posted = events.First(e => e.Str("type") == "journal_entry.posted");
        Assert.Equal(("journal_entry", entryId.ToString()), (posted["subject"].Str("type"), posted["subject"].Str("id")));
        Assert.Equal("5000.00", posted["data"]!["lines"]![0].Str("debit"));
        Assert.Equal(("configured-admin", "configured admin key"), (posted["actor"].Str("keyId"), posted["actor"].Str("name")));
        Assert.Matches("^[0-9a-f]{64}$", posted.Str("hash"));

        // Resume after the third event; filter by type, exact or by prefix.
        var rest = await EventsAsync(book, "&after=3");
        Assert.Equal(4L, rest[0]["sequence"]!.GetValue<long>());
        Assert.All(await EventsAsync(book, "&types=document.*"), e => Assert.StartsWith("document.", e.Str("type")));
        Assert.Single(await EventsAsync(book, "&types=document.issued"));
        var page = await Admin.GetJsonAsync($"/v1/books/{book}/events?limit=2");
        Assert.Equal(2, page["items"]!.AsArray().Count);
        var next = await Admin.GetJsonAsync($"/v1/books/{book}/events?limit=2&cursor={page.Str("nextCursor")}");
        Assert.Equal(3L, next["items"]![0]!["sequence"]!.GetValue<long>());
        Assert.Equal(2L, page["lastSequence"]!.GetValue<long>());
        // A filtered page reads up to the head: resuming from its lastSequence passes over the events of other types
        // instead of reading them again, and with nothing new it answers the same place.
        var head = events[^1]["sequence"]!.GetValue<long>();
        var filtered = await Admin.GetJsonAsync($"/v1/books/{book}/events?types=document.issued");
        Assert.Single(filtered["items"]!.AsArray());
        Assert.Equal(head, filtered["lastSequence"]!.GetValue<long>());
        var caughtUp = await Admin.GetJsonAsync($"/v1/books/{book}/events?types=document.issued&after={head}");
        Assert.Empty(caughtUp["items"]!.AsArray());
        Assert.Equal(head, caughtUp["lastSequence"]!.GetValue<long>());
        // Past the head is a mistake to say out loud: answered as a place to resume from, the events up to it would be skipped.
        var pastHead = await (await Admin.GetAsync($"/v1/books/{book}/events?after={head + 1}")).AssertValidationErrorAsync("after");
        Assert.Contains($"at most {head}", pastHead.ToJsonString());
        // One place to resume from, not two.
        await (await Admin.GetAsync($"/v1/books/{book}/events?after=1&cursor={page.Str("nextCursor")}")).AssertValidationErrorAsync("cursor");

        // A refused change appends nothing.
        await (await Admin.PostEntryAsync(book, "2026-01-07", "Unbalanced", ("6000", "1.00", null), ("1010", null, "2.00"))).AssertValidationErrorOnAnyAsync("lines");
        Assert.Equal(events.Count, (await EventsAsync(book)).Count);
        // Another book's key sees nothing of this book's events.
        var other = App.Client(await App.CreateKeyAsync(await StandardBookAsync(), "read"));
        await (await other.GetAsync($"/v1/books/{book}/events")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Verify_recomputes_the_chain_and_the_rows_of_an_untouched_book()
    {
        var (book, _, _) = await BusyBookAsync();
        var verified = await VerifyAsync(book);
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
        var events = await EventsAsync(book);
        Assert.Equal(events.Count, verified["events"]!.GetValue<long>());
        Assert.Equal(events[^1].Str("hash"), verified.Str("head"));
        Assert.Equal(4L, verified["entriesChecked"]!.GetValue<long>());
        Assert.Null(verified["firstInvalid"]);
    }

    [Fact]
    public async Task A_byte_changed_in_an_entry_is_named()
    {
        var (book, entryId, _) = await BusyBookAsync();
        await TamperAsync("UPDATE journal_entries SET description = 'Capitam' WHERE book_id = @book AND id = @entryId", new { book, entryId });
        var verified = await VerifyAsync(book);
        Assert.False(verified["valid"]!.GetValue<bool>());
        Assert.Equal(("journal_entries", entryId.ToString()), (verified["firstInvalid"].Str("table"), verified["firstInvalid"].Str("id")));
    }

    [Fact]
    public async Task A_byte_changed_in_a_posting_is_named()
    {
        var (book, entryId, _) = await BusyBookAsync();
        await TamperAsync("UPDATE postings SET amount = amount + 1 WHERE book_id = @book AND entry_id = @entryId AND line_no = 1", new { book, entryId });
        var verified = await VerifyAsync(book);
        Assert.False(verified["valid"]!.GetValue<bool>());
        Assert.Equal(("postings", $"{entryId}/1"), (verified["firstInvalid"].Str("table"), verified["firstInvalid"].Str("id")));
    }

    [Fact]
    public async Task A_byte_changed_in_an_event_is_named_by_its_sequence_and_so_is_a_deleted_event()
    {
        var (book, entryId, _) = await BusyBookAsync();
        // An entry's event: its row in the log (who posted it), and the hash its entry's row keeps.
        var sequence = (await EventsAsync(book, "&types=journal_entry.posted")).First(e => e["subject"].Str("id") == entryId.ToString())["sequence"]!.GetValue<long>();
        await TamperAsync("UPDATE events SET actor_name = 'someone else' WHERE book_id = @book AND sequence = @sequence", new { book, sequence });
        var verified = await VerifyAsync(book);
        Assert.False(verified["valid"]!.GetValue<bool>());
        Assert.Equal(("event", sequence), (verified["firstInvalid"].Str("kind"), verified["firstInvalid"]!["sequence"]!.GetValue<long>()));
        Assert.Equal(sequence - 1, verified["events"]!.GetValue<long>());
        var (rehashed, rehashedEntry, _) = await BusyBookAsync();
        await TamperAsync("UPDATE journal_entries SET event_hash = @hash WHERE book_id = @rehashed AND id = @rehashedEntry",
            new { rehashed, rehashedEntry, hash = new byte[32] });
        var rehashedVerified = await VerifyAsync(rehashed);
        Assert.Equal("event", rehashedVerified["firstInvalid"].Str("kind"));

        // A document's event, whose data is stored in the log.
        var (documented, _, invoice) = await BusyBookAsync();
        var documentEvent = (await EventsAsync(documented, "&types=document.issued")).First(e => e["subject"].Str("id") == invoice.ToString())["sequence"]!.GetValue<long>();
        await TamperAsync("UPDATE events SET data = REPLACE(data, '1190.00', '1190.01') WHERE book_id = @documented AND sequence = @documentEvent",
            new { documented, documentEvent });
        var documentVerified = await VerifyAsync(documented);
        Assert.Equal(("event", documentEvent), (documentVerified["firstInvalid"].Str("kind"), documentVerified["firstInvalid"]!["sequence"]!.GetValue<long>()));

        var (other, _, _) = await BusyBookAsync();
        await TamperAsync("DELETE FROM events WHERE book_id = @other AND sequence = 3", new { other });
        var gap = await VerifyAsync(other);
        Assert.Equal(("event", 3L), (gap["firstInvalid"].Str("kind"), gap["firstInvalid"]!["sequence"]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_changed_document_and_an_entry_inserted_behind_the_ledger_are_named()
    {
        var (book, entryId, invoice) = await BusyBookAsync();
        await TamperAsync("UPDATE documents SET gross = gross - 100 WHERE book_id = @book AND id = @invoice", new { book, invoice });
        var verified = await VerifyAsync(book);
        Assert.Equal(("documents", invoice.ToString()), (verified["firstInvalid"].Str("table"), verified["firstInvalid"].Str("id")));

        var (other, otherEntry, _) = await BusyBookAsync();
        await TamperAsync("""
            INSERT INTO journal_entries (id, book_id, number, entry_date, description, reference, created_at, reversal_of, reversed_by, is_closing, source_type, source_id, event_sequence)
            SELECT 900000000 + id, book_id, number + 1000, entry_date, 'Inserted', reference, created_at, NULL, NULL, 0, NULL, NULL, NULL
            FROM journal_entries WHERE book_id = @other AND id = @otherEntry
            """, new { other, otherEntry });
        var inserted = await VerifyAsync(other);
        Assert.Equal(("journal_entries", (900000000 + otherEntry).ToString()), (inserted["firstInvalid"].Str("table"), inserted["firstInvalid"].Str("id")));
    }

    [Fact]
    public async Task A_posting_whose_entry_or_account_is_not_in_the_book_is_named()
    {
        // PostgreSQL has no foreign key from postings to entries (migration 0015): the audit is what finds such a row.
        // SQLite keeps the key, so there the row goes in only with the key checks turned off, as someone at the file could.
        var (book, entryId, _) = await BusyBookAsync();
        const string insert = """
            INSERT INTO postings (entry_id, line_no, account_id, amount, entry_date, description, book_id)
            SELECT 900000000 + entry_id, line_no, account_id, amount, entry_date, description, book_id
            FROM postings WHERE book_id = @book AND entry_id = @entryId AND line_no = 0
            """;
        await TamperPastKeysAsync(insert, new { book, entryId });
        var verified = await VerifyAsync(book);
        Assert.False(verified["valid"]!.GetValue<bool>());
        Assert.Equal(("postings", $"{900000000 + entryId}/0"), (verified["firstInvalid"].Str("table"), verified["firstInvalid"].Str("id")));

        // Nor from postings to accounts: a line moved to an account the book does not have is named as its entry's line.
        var (other, otherEntry, _) = await BusyBookAsync();
        const string move = "UPDATE postings SET account_id = 900000000 WHERE book_id = @other AND entry_id = @otherEntry AND line_no = 1";
        await TamperPastKeysAsync(move, new { other, otherEntry });
        var moved = await VerifyAsync(other);
        Assert.Equal(("postings", $"{otherEntry}/1"), (moved["firstInvalid"].Str("table"), moved["firstInvalid"].Str("id")));
    }

    [Fact]
    public async Task Totals_a_report_reads_a_posting_moved_to_another_date_and_an_entry_unlinked_from_its_event_are_named()
    {
        var (book, entryId, _) = await BusyBookAsync();
        await TamperAsync("UPDATE accounts SET debit_total = debit_total + 100000 WHERE book_id = @book AND code = '1010'", new { book });
        var totals = await VerifyAsync(book);
        Assert.Equal(("accounts", "1010"), (totals["firstInvalid"].Str("table"), totals["firstInvalid"].Str("id")));

        var (moved, movedEntry, _) = await BusyBookAsync();
        await TamperAsync("UPDATE postings SET entry_date = '2025-12-31' WHERE book_id = @moved AND entry_id = @movedEntry AND line_no = 0", new { moved, movedEntry });
        var date = await VerifyAsync(moved);
        Assert.Equal(("postings", $"{movedEntry}/0"), (date["firstInvalid"].Str("table"), date["firstInvalid"].Str("id")));

        // Changed, then unlinked and passed off as older than the log: found from the log's side.
        var (unlinked, unlinkedEntry, _) = await BusyBookAsync();
        await TamperAsync("UPDATE journal_entries SET description = 'Changed', event_sequence = NULL WHERE book_id = @unlinked AND id = @unlinkedEntry",
            new { unlinked, unlinkedEntry });
        await TamperAsync("UPDATE books SET audit_from_entry = 999999999, audit_from_document = 999999999 WHERE id = @unlinked", new { unlinked });
        var hidden = await VerifyAsync(unlinked);
        Assert.False(hidden["valid"]!.GetValue<bool>());
        Assert.Equal(("journal_entries", unlinkedEntry.ToString()), (hidden["firstInvalid"].Str("table"), hidden["firstInvalid"].Str("id")));
    }

    [Fact]
    public async Task An_open_item_changed_and_a_reversal_unlinked_are_named()
    {
        var (book, _, invoice) = await BusyBookAsync();
        await TamperAsync("UPDATE open_items SET amount = amount - 1 WHERE book_id = @book AND source_type = 'invoice' AND source_id = @invoice", new { book, invoice });
        var item = await VerifyAsync(book);
        Assert.Equal("open_items", item["firstInvalid"].Str("table"));

        var (other, otherEntry, _) = await BusyBookAsync();
        var reversal = await (await Admin.PostJsonAsync($"{EntriesUrl(other)}/{otherEntry}/reverse", new { })).AssertCreatedAsync();
        Assert.True((await VerifyAsync(other))["valid"]!.GetValue<bool>());
        await TamperAsync("UPDATE journal_entries SET reversed_by = NULL WHERE book_id = @other AND id = @otherEntry", new { other, otherEntry });
        var unlinked = await VerifyAsync(other);
        Assert.Equal(("journal_entries", otherEntry.ToString()), (unlinked["firstInvalid"].Str("table"), unlinked["firstInvalid"].Str("id")));
        Assert.NotNull(reversal);
    }

    [Fact]
    public async Task Documents_issued_from_a_draft_by_a_replace_or_at_once_match_their_last_events()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book, "Globex");
        var url = $"/v1/books/{book}/invoices";
        object Body(string price, bool issue) => new
        {
            customer, date = "2026-02-01", dueDate = "2026-03-15", reference = "R-1", issue,
            lines = new[] { new { description = "Work", quantity = "3", unitPrice = price, account = "4000" } },
        };
        var issuedDraft = (await (await Admin.PostJsonAsync(url, Body("10.00", issue: false))).AssertCreatedAsync())["id"]!.GetValue<long>();
        await (await Admin.PostJsonAsync($"{url}/{issuedDraft}/issue", new { })).AssertCreatedAsync();
        var replaced = (await (await Admin.PostJsonAsync(url, Body("20.00", issue: false))).AssertCreatedAsync())["id"]!.GetValue<long>();
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"{url}/{replaced}", Body("30.00", issue: true))).StatusCode);
        var atOnce = (await (await Admin.PostJsonAsync(url, Body("40.00", issue: true))).AssertCreatedAsync())["id"]!.GetValue<long>();
        var changedDraft = (await (await Admin.PostJsonAsync(url, Body("50.00", issue: false))).AssertCreatedAsync())["id"]!.GetValue<long>();
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"{url}/{changedDraft}", Body("60.00", issue: false))).StatusCode);

        var events = await EventsAsync(book, "&types=document.*");
        string[] TypesOf(long id) => events.Where(e => e["subject"].Str("id") == id.ToString()).Select(e => e.Str("type")).ToArray();
        Assert.Equal(["document.drafted", "document.issued"], TypesOf(issuedDraft));
        Assert.Equal(["document.drafted", "document.changed", "document.issued"], TypesOf(replaced));
        Assert.Equal(["document.issued"], TypesOf(atOnce));
        Assert.Equal(["document.drafted", "document.changed"], TypesOf(changedDraft));
        var verified = await VerifyAsync(book);
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
        Assert.Equal(4L, verified["documentsChecked"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_deleted_issued_document_is_named()
    {
        var (book, _, invoice) = await BusyBookAsync();
        await TamperAsync("DELETE FROM document_lines WHERE book_id = @book AND document_id = @invoice", new { book, invoice });
        await TamperAsync("DELETE FROM documents WHERE book_id = @book AND id = @invoice", new { book, invoice });
        var verified = await VerifyAsync(book);
        Assert.Equal(("documents", invoice.ToString()), (verified["firstInvalid"].Str("table"), verified["firstInvalid"].Str("id")));
    }

    [Fact]
    public async Task A_batch_of_several_row_chunks_verifies_and_the_next_events_chain_from_it()
    {
        // 1,100 entries: two full chunks of 512 rows (JournalPoster writes a batch a chunk at a time) and 76 more; then a
        // single post and an account, whose events chain from the batch's last hash.
        var book = await StandardBookAsync();
        var before = (await VerifyAsync(book))["events"]!.GetValue<long>();
        var entries = Enumerable.Range(0, 1100).Select(i => HttpTestExtensions.Entry("2026-02-01", $"E{i}", ("1010", $"{i + 1}.00", null), ("4000", null, $"{i + 1}.00"))).ToArray();
        await (await Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", new { entries })).AssertCreatedAsync();
        await App.PostEntryOkAsync(book, "2026-02-02", "After the batch", ("6000", "5.00", null), ("1010", null, "5.00"));
        await (await Admin.PostJsonAsync($"/v1/books/{book}/accounts", new { code = "1999", name = "After", type = "asset" })).AssertCreatedAsync();

        var verified = await VerifyAsync(book);
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
        Assert.Equal(before + 1102, verified["events"]!.GetValue<long>());
        var sequences = (await EventsAsync(book, $"&after={before}")).Concat(await EventsAsync(book, $"&after={before + 1000}"))
            .Select(e => e["sequence"]!.GetValue<long>()).ToList();
        Assert.Equal(Enumerable.Range((int)before + 1, 1102).Select(n => (long)n), sequences);
    }

    /// <summary>A book whose second to sixth events are one batch of five entries (one row of the log, a run).</summary>
    private async Task<(string Book, long[] Entries)> BatchBookAsync()
    {
        var book = await StandardBookAsync();
        await (await Admin.PostJsonAsync($"/v1/books/{book}/accounts", new { code = "1998", name = "Before", type = "asset" })).AssertCreatedAsync();
        var before = (await VerifyAsync(book))["events"]!.GetValue<long>();
        var entries = Enumerable.Range(0, 5).Select(i => HttpTestExtensions.Entry("2026-02-01", $"E{i}", ("1010", $"{i + 1}.00", null), ("4000", null, $"{i + 1}.00"))).ToArray();
        var posted = await (await Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", new { entries })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync($"/v1/books/{book}/accounts", new { code = "1999", name = "After", type = "asset" })).AssertCreatedAsync();
        Assert.Equal(before + 6, (await VerifyAsync(book))["events"]!.GetValue<long>());
        return (book, posted["entries"]!.AsArray().Select(e => e!["id"]!.GetValue<long>()).ToArray());
    }

    /// <summary>A book whose events after its accounts are one batch of <paramref name="count"/> entries, entry i of <c>i + 1</c>.00.</summary>
    private async Task<(string Book, long Before, long[] Entries)> LongRunBookAsync(int count)
    {
        var book = await StandardBookAsync();
        var before = (await VerifyAsync(book))["events"]!.GetValue<long>();
        var entries = Enumerable.Range(0, count).Select(i => HttpTestExtensions.Entry("2026-02-01", $"E{i}", ("1010", $"{i + 1}.00", null), ("4000", null, $"{i + 1}.00"))).ToArray();
        var posted = await (await Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", new { entries })).AssertCreatedAsync();
        return (book, before, posted["entries"]!.AsArray().Select(e => e!["id"]!.GetValue<long>()).ToArray());
    }

    [Fact]
    public async Task A_long_run_keeps_every_64th_events_hash_and_reads_back_the_same_from_any_place_even_with_one_of_them_gone()
    {
        var (book, before, ids) = await LongRunBookAsync(150);
        var events = await EventsAsync(book);
        var all = events.Select(e => e.ToJsonString()).ToList();
        var keptAt = Enumerable.Range((int)before + 1, 150).Where(s => s % 64 == 0).Select(s => (long)s).ToList();
        Assert.Equal(2, keptAt.Count);
        await using (var connection = await TestDatabase.OpenWritableAsync(App.DatabasePath))
        {
            // Only those entries keep a hash, and it is the one the feed gives their events.
            var kept = (await connection.QueryAsync<(long Sequence, byte[] Hash)>(
                "SELECT event_sequence, event_hash FROM journal_entries WHERE book_id = @book AND event_hash IS NOT NULL ORDER BY event_sequence", new { book })).ToList();
            Assert.Equal(keptAt, kept.Select(k => k.Sequence));
            foreach (var (sequence, hash) in kept)
                Assert.Equal(events.Single(e => e["sequence"]!.GetValue<long>() == sequence).Str("hash"), Convert.ToHexStringLower(hash));
        }
        Assert.True((await VerifyAsync(book))["valid"]!.GetValue<bool>());

        // Pages of three from every place: each one picks the chain up from a kept hash or the run's start.
        async Task SameFromEveryPlaceAsync(IEnumerable<int> places)
        {
            foreach (var after in places)
            {
                var page = await Admin.GetJsonAsync($"/v1/books/{book}/events?after={after}&limit=3");
                Assert.Equal(all.Skip(after).Take(3), page["items"]!.AsArray().Select(e => e!.ToJsonString()));
            }
        }
        await SameFromEveryPlaceAsync(Enumerable.Range((int)before - 1, all.Count - (int)before + 1));

        // A kept hash gone: the feed reads from the run's start instead and says the same; the audit names the entry.
        var keeper = ids[keptAt[1] - before - 1];
        await TamperAsync("UPDATE journal_entries SET event_hash = NULL WHERE book_id = @book AND id = @keeper", new { book, keeper });
        await SameFromEveryPlaceAsync(Enumerable.Range((int)keptAt[1] - 3, 6));
        Assert.Equal(all, (await EventsAsync(book)).Select(e => e.ToJsonString()));
        var gone = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("journal_entries", keeper.ToString(), keptAt[1]), (gone.Str("table"), gone.Str("id"), gone["sequence"]!.GetValue<long>()));
        Assert.Contains("no longer keeps the hash", gone.Str("reason"));
    }

    [Fact]
    public async Task A_line_changed_with_its_fingerprint_between_kept_hashes_is_found_among_the_events_since_the_last_that_followed()
    {
        var (book, before, ids) = await LongRunBookAsync(150);
        var firstKept = (before / 64 + 1) * 64;
        // An entry ten events after the first kept hash: its line 1 rewritten, and its fingerprint with it, as anyone who
        // reads the README can (XXH3 is no secret).
        var sequence = firstKept + 10;
        var index = (int)(sequence - before - 1);
        var id = ids[index];
        var number = (await Admin.GetJsonAsync($"/v1/books/{book}/journal-entries/{id}"))["number"]!.GetValue<long>();
        var amount = (index + 1) * 100L;
        var fingerprints = new long[2];
        AuditSnapshots.EntryText(id, number, "2026-02-01", $"E{index}", null, null, false, null, null,
            [new AuditSnapshots.EntryLine("1010", amount, null, null, null), new AuditSnapshots.EntryLine("4000", -amount, "rewritten", null, null)],
            2, fingerprints, out _);
        await TamperAsync("UPDATE postings SET description = 'rewritten', fingerprint = @fingerprint WHERE book_id = @book AND entry_id = @id AND line_no = 1",
            new { book, id, fingerprint = fingerprints[1] });

        // Every row matches its fingerprint; the next kept hash no longer follows, and the finding names the events between.
        var rewritten = await VerifyAsync(book);
        var found = rewritten["firstInvalid"]!;
        var nextKept = firstKept + 64;
        Assert.Equal(("event", nextKept), (found.Str("kind"), found["sequence"]!.GetValue<long>()));
        Assert.Contains($"events {firstKept + 1} to {nextKept} (journal entries {ids[firstKept - before]} to {ids[nextKept - before - 1]})", found.Str("reason"));
        Assert.Contains($"journal entry {ids[nextKept - before - 1]}'s row", found.Str("reason"));
        Assert.Equal(firstKept, rewritten["events"]!.GetValue<long>());

        // Who posted the run, changed on its row: every event of the run hashes it, so the first hash kept no longer follows.
        (book, before, ids) = await LongRunBookAsync(150);
        await TamperAsync("UPDATE events SET actor_name = 'someone else' WHERE book_id = @book AND through_sequence IS NOT NULL", new { book });
        var actor = await VerifyAsync(book);
        firstKept = (before / 64 + 1) * 64;
        Assert.Equal(("event", firstKept, before), (actor["firstInvalid"].Str("kind"), actor["firstInvalid"]!["sequence"]!.GetValue<long>(), actor["events"]!.GetValue<long>()));
        Assert.Contains($"the type, time or actor on the log's row for events {before + 1} to {before + 150}", actor["firstInvalid"].Str("reason"));

        // The line changed alone, in the same place: named at once as the line, with what it now says.
        (book, before, ids) = await LongRunBookAsync(150);
        firstKept = (before / 64 + 1) * 64;
        id = ids[(int)(firstKept + 10 - before - 1)];
        await TamperAsync("UPDATE postings SET description = 'rewritten' WHERE book_id = @book AND entry_id = @id AND line_no = 1", new { book, id });
        var line = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("postings", $"{id}/1", firstKept + 10), (line.Str("table"), line.Str("id"), line["sequence"]!.GetValue<long>()));
        Assert.Contains("\"description\":\"rewritten\"", line.Str("reason"));
        Assert.Contains("differs from what event", line.Str("reason"));
    }

    [Fact]
    public async Task A_batchs_events_share_one_row_of_the_log_and_read_back_one_by_one_from_any_place()
    {
        var (book, ids) = await BatchBookAsync();
        var events = await EventsAsync(book);
        var entryEvents = events.Where(e => e.Str("type") == "journal_entry.posted").ToList();
        Assert.Equal(ids.Select(id => id.ToString()), entryEvents.Select(e => e["subject"].Str("id")));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{i + 1}.00"), entryEvents.Select(e => e["data"]!["lines"]![0].Str("debit")));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"E{i}"), entryEvents.Select(e => e["data"].Str("description")));
        await using (var connection = await TestDatabase.OpenWritableAsync(App.DatabasePath))
        {
            var first = entryEvents[0]["sequence"]!.GetValue<long>();
            var run = await connection.QuerySingleAsync<(long Sequence, long? Through, string Data, string Hash)>(
                "SELECT sequence, through_sequence, data, hash FROM events WHERE book_id = @book AND sequence = @first", new { book, first });
            Assert.Equal((first, first + 4, ""), (run.Sequence, run.Through, run.Data));
            Assert.Equal(entryEvents[^1].Str("hash"), run.Hash);
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM events WHERE book_id = @book AND sequence > @first AND sequence <= @last", new { book, first, last = first + 4 }));
        }
        // Every place to resume from, inside the run too, gives the same events as the whole feed, a page at a time.
        var all = events.Select(e => e.ToJsonString()).ToList();
        for (var after = 0; after < events.Count; after++)
        {
            var page = await Admin.GetJsonAsync($"/v1/books/{book}/events?after={after}&limit=2");
            Assert.Equal(all.Skip(after).Take(2), page["items"]!.AsArray().Select(e => e!.ToJsonString()));
        }
        var filtered = await EventsAsync(book, $"&after={entryEvents[0]["sequence"]!.GetValue<long>()}&types=journal_entry.*");
        Assert.Equal(entryEvents.Skip(1).Select(e => e.ToJsonString()), filtered.Select(e => e.ToJsonString()));
        // The export says the same, line by line.
        var export = (await (await Admin.GetAsync($"/v1/books/{book}/audit/export")).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(all, export.Select(l => JsonNode.Parse(l)!.ToJsonString()));
    }

    [Fact]
    public async Task A_change_inside_a_batch_names_the_entry_the_line_or_the_event_that_differs()
    {
        var (book, ids) = await BatchBookAsync();
        var third = ids[2];
        await TamperAsync("UPDATE postings SET description = 'x' WHERE book_id = @book AND entry_id = @third AND line_no = 1", new { book, third });
        var line = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("postings", $"{third}/1"), (line.Str("table"), line.Str("id")));
        Assert.Contains("\"description\":\"x\"", line.Str("reason"));

        (book, ids) = await BatchBookAsync();
        var fourth = ids[3];
        await TamperAsync("UPDATE journal_entries SET reference = 'R' WHERE book_id = @book AND id = @fourth", new { book, fourth });
        var entry = await VerifyAsync(book);
        Assert.Equal(("journal_entries", fourth.ToString()), (entry["firstInvalid"].Str("table"), entry["firstInvalid"].Str("id")));
        var fourthEvent = (await EventsAsync(book)).Single(e => e["subject"].Str("id") == fourth.ToString() && e["subject"].Str("type") == "journal_entry");
        Assert.Equal(fourthEvent["sequence"]!.GetValue<long>() - 1, entry["events"]!.GetValue<long>());

        // The run's row keeps the hash of its last event.
        (book, ids) = await BatchBookAsync();
        await TamperAsync("UPDATE events SET hash = REPLACE(hash, SUBSTR(hash, 1, 1), 'x') WHERE book_id = @book AND through_sequence IS NOT NULL", new { book });
        var runHash = (await VerifyAsync(book))["firstInvalid"]!;
        var lastOfRun = (await EventsAsync(book)).Single(e => e["subject"].Str("id") == ids[^1].ToString() && e["subject"].Str("type") == "journal_entry");
        Assert.Equal(("event", lastOfRun["sequence"]!.GetValue<long>()), (runHash.Str("kind"), runHash["sequence"]!.GetValue<long>()));

        // An entry of the run taken out, lines and all.
        (book, ids) = await BatchBookAsync();
        var second = ids[1];
        await TamperPastKeysAsync("DELETE FROM journal_entries WHERE book_id = @book AND id = @second", new { book, second });
        var gone = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("journal_entries", ids[1].ToString()), (gone.Str("table"), gone.Str("id")));
        Assert.Contains($"after entry {ids[0]} and before entry {ids[2]}", gone.Str("reason"));
        (book, ids) = await BatchBookAsync();
        await TamperPastKeysAsync("DELETE FROM journal_entries WHERE book_id = @book AND id = @first", new { book, first = ids[0] });
        var firstGone = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("journal_entries", ids[0].ToString()), (firstGone.Str("table"), firstGone.Str("id")));
        Assert.Contains("is gone", firstGone.Str("reason"));

        // A line taken out of an entry of the run (the entry no longer balances), and a line's amount changed.
        (book, ids) = await BatchBookAsync();
        await TamperAsync("DELETE FROM postings WHERE book_id = @book AND entry_id = @third AND line_no = 1", new { book, third = ids[2] });
        var lineGone = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("postings", ids[2].ToString()), (lineGone.Str("table"), lineGone.Str("id")));
        (book, ids) = await BatchBookAsync();
        await TamperAsync("UPDATE postings SET amount = amount * 10 WHERE book_id = @book AND entry_id = @fifth AND line_no = 0", new { book, fifth = ids[4] });
        var amount = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("postings", $"{ids[4]}/0"), (amount.Str("table"), amount.Str("id")));

        // An entry passed off as one the batch posted: it names an event another entry holds.
        (book, ids) = await BatchBookAsync();
        await TamperAsync("""
            INSERT INTO journal_entries (id, book_id, number, entry_date, description, reference, created_at, reversal_of, reversed_by, is_closing, source_type, source_id, event_sequence, event_hash, fingerprint)
            SELECT 900000000 + id, book_id, number + 1000, entry_date, 'Inserted', reference, created_at, NULL, NULL, 0, NULL, NULL, event_sequence, event_hash, fingerprint
            FROM journal_entries WHERE book_id = @book AND id = @first
            """, new { book, first = ids[0] });
        var copied = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("journal_entries", (900000000 + ids[0]).ToString()), (copied.Str("table"), copied.Str("id")));
    }

    [Fact]
    public async Task A_fingerprint_changed_lines_swapped_or_the_runs_row_changed_are_named_and_an_impossible_amount_is_no_500()
    {
        var (book, ids) = await BatchBookAsync();
        await TamperAsync("UPDATE postings SET fingerprint = 0 WHERE book_id = @book AND entry_id = @id AND line_no = 0", new { book, id = ids[1] });
        var fingerprint = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("postings", $"{ids[1]}/0"), (fingerprint.Str("table"), fingerprint.Str("id")));
        Assert.Contains("fingerprint was changed", fingerprint.Str("reason"));

        // Lines 0 and 1 trade places (each keeps its text and its fingerprint): the fingerprint is of a line at its place.
        (book, ids) = await BatchBookAsync();
        await TamperAsync("UPDATE postings SET line_no = 9 WHERE book_id = @book AND entry_id = @id AND line_no = 0", new { book, id = ids[2] });
        await TamperAsync("UPDATE postings SET line_no = 0 WHERE book_id = @book AND entry_id = @id AND line_no = 1", new { book, id = ids[2] });
        await TamperAsync("UPDATE postings SET line_no = 1 WHERE book_id = @book AND entry_id = @id AND line_no = 9", new { book, id = ids[2] });
        var swapped = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("postings", $"{ids[2]}/0"), (swapped.Str("table"), swapped.Str("id")));

        (book, ids) = await BatchBookAsync();
        await TamperAsync("UPDATE events SET subject_id = @other WHERE book_id = @book AND through_sequence IS NOT NULL", new { book, other = ids[1].ToString() });
        var renamed = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal("event", renamed.Str("kind"));
        (book, ids) = await BatchBookAsync();
        await TamperAsync("UPDATE events SET data = '{}' WHERE book_id = @book AND through_sequence IS NOT NULL", new { book });
        Assert.Equal("event", (await VerifyAsync(book))["firstInvalid"].Str("kind"));

        // An amount no entry can hold (only a changed row has it): the feed and the export still answer, the audit names the line.
        (book, ids) = await BatchBookAsync();
        await TamperAsync("UPDATE postings SET amount = -9223372036854775808 WHERE book_id = @book AND entry_id = @id AND line_no = 1", new { book, id = ids[0] });
        Assert.Equal("92233720368547758.08", (await EventsAsync(book)).Single(e => e["subject"].Str("id") == ids[0].ToString() && e["subject"].Str("type") == "journal_entry")
            ["data"]!["lines"]![1].Str("credit"));
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"/v1/books/{book}/audit/export")).StatusCode);
        var impossible = (await VerifyAsync(book))["firstInvalid"]!;
        Assert.Equal(("postings", $"{ids[0]}/1"), (impossible.Str("table"), impossible.Str("id")));
    }

    [Fact]
    public async Task An_entry_event_written_with_its_own_row_before_runs_still_verifies_and_a_changed_line_is_named()
    {
        // Events written before migration 0016 (SQLite) or 0017 (PostgreSQL): a row per entry, with the entry's text as data.
        var (book, entryId, _) = await BusyBookAsync();
        var posted = (await EventsAsync(book, "&types=journal_entry.posted")).First(e => e["subject"].Str("id") == entryId.ToString());
        var sequence = posted["sequence"]!.GetValue<long>();
        var data = Ledger.Domain.CanonicalJson.Text(posted["data"]);
        await TamperAsync("UPDATE events SET data = @data, through_sequence = NULL WHERE book_id = @book AND sequence = @sequence", new { book, sequence, data });
        await TamperAsync("UPDATE journal_entries SET event_hash = NULL, fingerprint = NULL WHERE book_id = @book AND id = @entryId", new { book, entryId });
        var verified = await VerifyAsync(book);
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
        Assert.Equal(posted.ToJsonString(), (await EventsAsync(book, "&types=journal_entry.posted")).First(e => e["subject"].Str("id") == entryId.ToString()).ToJsonString());

        await TamperAsync("UPDATE postings SET amount = amount + 1 WHERE book_id = @book AND entry_id = @entryId AND line_no = 1", new { book, entryId });
        var changed = await VerifyAsync(book);
        Assert.Equal(("postings", $"{entryId}/1"), (changed["firstInvalid"].Str("table"), changed["firstInvalid"].Str("id")));
    }

    [Fact]
    public async Task A_feed_page_that_fills_at_the_end_of_a_scan_still_gives_a_cursor()
    {
        var book = await StandardBookAsync();
        var entries = Enumerable.Range(0, 1000).Select(i => HttpTestExtensions.Entry("2026-02-01", $"E{i}", ("1010", "1.00", null), ("4000", null, "1.00"))).ToArray();
        await (await Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", new { entries })).AssertCreatedAsync();
        var total = 0;
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Admin.GetJsonAsync($"/v1/books/{book}/events?limit=1000{(cursor is null ? "" : $"&cursor={cursor}")}");
            total += page["items"]!.AsArray().Count;
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        } while (cursor is not null && pages < 5);
        Assert.Equal((await VerifyAsync(book))["events"]!.GetValue<long>(), total);
        Assert.True(total > 1000);
    }

    [Fact]
    public async Task The_export_is_json_lines_that_rechain_to_the_verified_head()
    {
        var (book, _, _) = await BusyBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-20", "Müller – 東京 \"quoted\" <b>", ("6000", "1.00", null), ("1010", null, "1.00"));
        var response = await Admin.GetAsync($"/v1/books/{book}/audit/export");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/jsonl", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Written as the feed writes events: raw UTF-8, only what JSON requires escaped.
        Assert.Contains("Müller – 東京 \\\"quoted\\\" <b>", text);
        var feedLast = await Admin.GetStringAsync($"/v1/books/{book}/events?after={lines.Length - 1}");
        Assert.Contains(lines[^1], feedLast);
        var head = Ledger.Domain.AuditChain.Genesis;
        foreach (var line in lines)
        {
            var e = JsonNode.Parse(line)!;
            var data = Ledger.Domain.CanonicalJson.Text(e["data"]);
            head = Ledger.Domain.AuditChain.Next(head, Ledger.Domain.AuditChain.EventBytes(e["sequence"]!.GetValue<long>(), e.Str("type"), e.Str("occurredAt"),
                e["actor"]?["keyId"]?.GetValue<string>(), e["actor"]?["name"]?.GetValue<string>(), e["subject"].Str("type"), e["subject"].Str("id"), data));
            Assert.Equal(e.Str("hash"), head);
        }
        Assert.Equal((await VerifyAsync(book)).Str("head"), head);
    }
}

public sealed class AuditVerifierToolTests(SharedApp shared) : SharedAppTest(shared)
{
    /// <summary>Runs src/Ledger.AuditVerify (built with the tests) on a file; returns its exit code and output.</summary>
    private static async Task<(int Code, string Output)> RunVerifierAsync(string file)
    {
        var testDir = AppContext.BaseDirectory; // …/tests/Ledger.Api.Tests/bin/{Configuration}/net10.0/
        var configuration = new DirectoryInfo(testDir).Parent!.Name;
        var root = new DirectoryInfo(testDir);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Ledger.sln"))) root = root.Parent;
        var dll = Path.Combine(root!.FullName, "src", "Ledger.AuditVerify", "bin", configuration, "net10.0", "Ledger.AuditVerify.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", ["exec", dll, file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    [Fact]
    public async Task The_verifier_in_the_repository_checks_an_export_offline_and_names_a_changed_line()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        var export = await (await Admin.GetAsync($"/v1/books/{book}/audit/export")).Content.ReadAsStringAsync();
        var head = (await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify")).Str("head");
        var file = Path.Combine(Path.GetTempPath(), $"ledger-export-{Guid.NewGuid():N}.jsonl");
        try
        {
            await File.WriteAllTextAsync(file, export);
            var (code, output) = await RunVerifierAsync(file);
            Assert.True(code == 0, output);
            Assert.Contains(head, output);

            var lines = export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var changed = Array.FindIndex(lines, l => l.Contains("5000.00"));
            lines[changed] = lines[changed].Replace("5000.00", "5000.01");
            await File.WriteAllTextAsync(file, string.Join('\n', lines) + "\n");
            (code, output) = await RunVerifierAsync(file);
            Assert.Equal(1, code);
            Assert.Contains($"INVALID at line {changed + 1}", output);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public sealed class AuditSnapshotTests
{
    [Fact]
    public void The_entry_text_the_poster_writes_is_the_canonical_form_of_the_entry()
    {
        AuditSnapshots.EntryLine[] lines =
        [
            new("1200", 11900, "Invoice \"7\"\n", "customer", 3),
            new("4000", -10000, null, null, null),
            new("2100", -1900, "VAT", null, null),
            new("2000", 0, "é", "vendor", 9),
        ];
        foreach (var (reversalOf, sourceType, reference) in new[] { ((long?)null, (string?)null, (string?)null), (12L, "invoice", "INV-1") })
            Assert.Equal(
                Ledger.Domain.CanonicalJson.Text(AuditSnapshots.Entry(17, 5, "2026-03-01", "Täst \u0001", reference, reversalOf, reversalOf is null, sourceType, 4, lines, 2)),
                AuditSnapshots.EntryText(17, 5, "2026-03-01", "Täst \u0001", reference, reversalOf, reversalOf is null, sourceType, 4, lines, 2));
    }
}
