using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using Xunit.Sdk;

namespace Ledger.Api.Tests.Documents;

/// <summary>
/// Receivables and payables over a random history (fixed seed; LEDGER_SUBLEDGER_SEED runs another), checked against a
/// model the test keeps in plain records with its own integer arithmetic, written from the contract alone: every
/// document and payment posts one balanced entry (invoice: debit receivables gross with the customer, credit each line
/// net; bill: debit each line net, credit payables gross with the vendor; credits and refunds the mirror image);
/// allocations post nothing and match two open items of one party with opposite signs for no more than either's open
/// amount, never a draft or void one; voids reverse an issued document or a payment without allocations. After every
/// step the HTTP status is the model's, refusals write nothing, and every few steps each document and payment, the
/// control accounts tied out against the open items per party, and the trial balance equal the model's.
/// </summary>
[Trait("Category", "Slow")] // 200 steps with their checks: 5–10 s
public sealed class SubledgerModelTests(SharedApp shared) : SharedAppTest(shared)
{
    private const int DefaultSeed = 20260401;
    private const int Steps = 200;
    private const int CheckEvery = 10;
    private const string FirstDay = "2025-01-01";
    private const string LastDay = "2026-06-30";
    private const string Receivables = "1200";
    private const string Payables = "2000";

    private readonly int _seed = Environment.GetEnvironmentVariable("LEDGER_SUBLEDGER_SEED") is { Length: > 0 } seed
        ? int.Parse(seed, CultureInfo.InvariantCulture)
        : DefaultSeed;
    private Random _random = null!;
    private string _book = null!;
    private readonly List<Party> _customers = [];
    private readonly List<Party> _vendors = [];
    private readonly List<Doc> _docs = [];
    private readonly List<Pay> _payments = [];
    private readonly List<Alloc> _allocations = [];
    private readonly LedgerModel _ledger = new(2);
    private readonly Dictionary<Kind, int> _issued = [];
    private readonly Dictionary<Kind, string> _prefixes = [];
    private readonly Dictionary<string, int> _seen = new(StringComparer.Ordinal);
    private readonly List<string> _log = [];
    private readonly List<(string Date, Party Party, long Signed)> _controlPostings = [];
    private bool _agingReports;
    private int _step;

    // --- the model ---

    private enum Kind { Invoice, CreditNote, Bill, VendorCredit }

    private sealed record Party(long Id, bool IsCustomer, string Name)
    {
        public string Control => IsCustomer ? Receivables : Payables;

        public string Field => IsCustomer ? "customer" : "vendor";
    }

    /// <summary>A document line: quantity and unit price in hundredths (quantity null: 1), its net in cents.</summary>
    private sealed record DocLine(long? Quantity, long UnitPrice, string Account, string QuantityText, string UnitPriceText)
    {
        /// <summary>round(quantity × unit price) to the cent, half away from zero (all positive here).</summary>
        public long Net => checked((((Quantity ?? 100) * UnitPrice) + 50) / 100);
    }

    /// <summary>One line of an expected entry: the account, the party a control line names, debit positive.</summary>
    private sealed record Posting(string Account, Party? Party, long Signed)
    {
        public string Key => Party is null ? Account : $"{Account}/{Party.Field}:{Party.Id}";
    }

    private abstract class Item
    {
        public required long Id { get; init; }
        public required Party Party { get; init; }
        public required string Date { get; set; }

        /// <summary>Issued and not void (documents), not void (payments): an open item that may be allocated.</summary>
        public abstract bool Live { get; }

        /// <summary>The whole amount as posted to the control account, debit positive.</summary>
        public abstract long Signed { get; }

        public long Full => Math.Abs(Signed);

        public abstract string Label { get; }
    }

    private sealed class Doc : Item
    {
        public required Kind Kind { get; init; }
        public required List<DocLine> Lines { get; set; }
        public string State { get; set; } = "draft"; // draft, issued, void
        public string? Number { get; set; }

        public long Gross => Lines.Sum(l => l.Net);

        public override bool Live => State == "issued";

        public override long Signed => Kind is Kind.Invoice or Kind.VendorCredit ? Gross : -Gross;

        public override string Label => $"{Kind} {Id}{(Number is null ? "" : $" ({Number})")} of {Party.Name}";
    }

    private sealed class Pay : Item
    {
        public required bool In { get; init; }
        public required long Amount { get; init; }
        public required string Account { get; init; }
        public bool Void { get; set; }

        public override bool Live => !Void;

        // Money in credits the control account (a customer paying, a vendor refunding); money out debits it.
        public override long Signed => In ? -Amount : Amount;

        public override string Label => $"payment {Id} ({(In ? "in" : "out")} {Format(Amount)}) of {Party.Name}";
    }

    private sealed class Alloc
    {
        public required long Id { get; init; }
        public required Item A { get; init; }
        public required Item B { get; init; }
        public required long Amount { get; init; }
        public required string Date { get; init; }
        public bool Undone { get; set; }

        public Item Other(Item item) => ReferenceEquals(A, item) ? B : A;
    }

    private IEnumerable<Alloc> Active(Item item) => _allocations.Where(a => !a.Undone && (ReferenceEquals(a.A, item) || ReferenceEquals(a.B, item)));

    private long Allocated(Item item) => Active(item).Sum(a => a.Amount);

    private long Open(Item item) => item.Live ? item.Full - Allocated(item) : 0;

    private long SignedOpen(Item item) => Math.Sign(item.Signed) * Open(item);

    private IEnumerable<Item> Items => _docs.Cast<Item>().Concat(_payments);

    private string ExpectedStatus(Doc doc) => doc.State switch
    {
        "issued" => Open(doc) == 0 ? "paid" : Allocated(doc) > 0 ? "partiallyPaid" : "open",
        var state => state,
    };

    /// <summary>The contract's answer to allocating <paramref name="amount"/> between two items.</summary>
    private HttpStatusCode ExpectAllocation(Item a, Item b, long amount) =>
        a.Live && b.Live && a.Party == b.Party && Math.Sign(a.Signed) == -Math.Sign(b.Signed) && amount <= Open(a) && amount <= Open(b)
            ? HttpStatusCode.Created
            : HttpStatusCode.Conflict;

    /// <summary>The contract's answer to a payment whose allocations are made at once.</summary>
    private HttpStatusCode ExpectPayment(Party party, bool inward, long amount, IReadOnlyList<(Doc Doc, long Amount)> allocations)
    {
        var sign = inward ? -1 : 1;
        var each = allocations.All(a => a.Doc.Live && a.Doc.Party == party && Math.Sign(a.Doc.Signed) == -sign && a.Amount <= Open(a.Doc));
        return each && allocations.Sum(a => a.Amount) <= amount ? HttpStatusCode.Created : HttpStatusCode.Conflict;
    }

    private static List<Posting> DocPostings(Doc doc) =>
    [
        new(doc.Party.Control, doc.Party, doc.Signed),
        .. doc.Lines.Select(l => new Posting(l.Account, null, -Math.Sign(doc.Signed) * l.Net)),
    ];

    private static List<Posting> PayPostings(Pay pay) => [new(pay.Party.Control, pay.Party, pay.Signed), new(pay.Account, null, -pay.Signed)];

    private static List<Posting> Reversal(IEnumerable<Posting> postings) => postings.Select(p => p with { Signed = -p.Signed }).ToList();

    // --- the test ---

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _book = await StandardBookAsync();
        foreach (var name in new[] { "Customer A", "Customer B", "Customer C" })
            _customers.Add(new Party(await App.CreateCustomerAsync(_book, name), true, name));
        foreach (var name in new[] { "Vendor X", "Vendor Y" })
            _vendors.Add(new Party(await App.CreateVendorAsync(_book, name), false, name));
        // The chart is not under test: the model takes its names and types from it, and computes every balance itself.
        foreach (var account in (await Admin.GetJsonAsync(AccountsUrl(_book))).AsArray())
            _ledger.AddAccount(account!["code"]!.GetValue<string>(), account["name"]!.GetValue<string>(), account["type"]!.GetValue<string>());
        foreach (var kind in Enum.GetValues<Kind>()) _issued[kind] = 0;
        // The aged receivables and payables reports are being built alongside; checked once the app serves them.
        var served = await Admin.GetJsonAsync("/swagger/v1/swagger.json");
        _agingReports = served["paths"]!.AsObject().ContainsKey("/v1/books/{bookId}/reports/aged-receivables");
    }

    [Fact]
    public async Task Receivables_and_payables_follow_the_model_through_a_random_history()
    {
        _random = new Random(_seed);
        var actions = new (int Weight, Func<Task<bool>> Run)[]
        {
            (14, () => CreateDocumentAsync(Kind.Invoice)),
            (10, () => CreateDocumentAsync(Kind.Bill)),
            (5, () => CreateDocumentAsync(Kind.CreditNote)),
            (4, () => CreateDocumentAsync(Kind.VendorCredit)),
            (5, IssueDraftAsync),
            (2, ReplaceDraftAsync),
            (1, DeleteDraftAsync),
            (12, () => PayAsync(customer: true, refund: false)),
            (9, () => PayAsync(customer: false, refund: false)),
            (3, () => PayAsync(customer: true, refund: true)),
            (2, () => PayAsync(customer: false, refund: true)),
            (12, AllocateAsync),
            (6, UndoAsync),
            (2, UndoTwiceAsync),
            (9, VoidAsync),
            (2, VoidVoidOrDraftAsync),
            (9, RefusedAllocationAsync),
            (4, RefusedPaymentAsync),
        };
        var totalWeight = actions.Sum(a => a.Weight);
        for (_step = 1; _step <= Steps; _step++)
        {
            await WithContextAsync(async () =>
            {
                // In the last quarter, every third step does something the history has not done yet, if anything.
                var done = _step > Steps * 3 / 4 && _step % 3 == 0 && await CatchUpAsync();
                for (var attempt = 0; !done; attempt++)
                {
                    Assert.True(attempt < 100, "No action applies.");
                    var roll = _random.Next(totalWeight);
                    var chosen = actions.First(a => (roll -= a.Weight) < 0);
                    done = await chosen.Run();
                }
                if (_step % CheckEvery == 0) await CheckAllAsync(final: false);
            });
        }
        _step = Steps + 1;
        Begin("final check");
        await WithContextAsync(async () =>
        {
            await CheckAllAsync(final: true);
            // The history covered what the contract names: a seed that misses a case does not pass quietly.
            var missing = Required.Where(r => !_seen.ContainsKey(r)).ToList();
            Assert.True(missing.Count == 0, $"The history never had: {string.Join(", ", missing)}. Seen: " +
                string.Join(", ", _seen.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}")));
        });
    }

    // --- steps ---

    private async Task<bool> CreateDocumentAsync(Kind kind) => await CreateDocumentAsync(kind, issue: null);

    private async Task<bool> CreateDocumentAsync(Kind kind, bool? issue)
    {
        var party = IsSales(kind) ? Pick(_customers) : Pick(_vendors);
        var lines = RandomLines(kind);
        var date = RandomDate();
        issue ??= _random.Next(5) != 0;
        Begin($"create {(issue.Value ? "and issue " : "")}{kind} for {party.Name} dated {date}, lines {Describe(lines)}");
        var json = (await ExpectAsync(await Admin.PostJsonAsync(Url(Route(kind)), DocBody(party, date, lines, issue.Value)), HttpStatusCode.Created))!;
        var doc = new Doc { Id = json["id"]!.GetValue<long>(), Kind = kind, Party = party, Date = date, Lines = lines };
        _docs.Add(doc);
        Note($"  -> {doc.Label}");
        if (issue.Value) await RecordIssueAsync(doc, json);
        AssertDoc(doc, json);
        return true;
    }

    private async Task<bool> IssueDraftAsync()
    {
        var drafts = _docs.Where(d => d.State == "draft").ToList();
        if (drafts.Count == 0) return false;
        var doc = Pick(drafts);
        Begin($"issue draft {doc.Label}");
        var json = (await ExpectAsync(await Admin.PostJsonAsync($"{Url(Route(doc.Kind))}/{doc.Id}/issue", new { }), HttpStatusCode.Created))!;
        await RecordIssueAsync(doc, json);
        AssertDoc(doc, json);
        Seen("draft issued");
        return true;
    }

    private async Task<bool> ReplaceDraftAsync()
    {
        var drafts = _docs.Where(d => d.State == "draft").ToList();
        if (drafts.Count == 0) return false;
        var doc = Pick(drafts);
        var lines = RandomLines(doc.Kind);
        var date = RandomDate();
        Begin($"replace draft {doc.Label}: dated {date}, lines {Describe(lines)}");
        var json = (await ExpectAsync(await Admin.SendRawAsync(HttpMethod.Put, $"{Url(Route(doc.Kind))}/{doc.Id}",
            DocBody(doc.Party, date, lines, issue: false).ToJsonString()), HttpStatusCode.OK))!;
        doc.Lines = lines;
        doc.Date = date;
        AssertDoc(doc, json);
        return true;
    }

    private async Task<bool> DeleteDraftAsync()
    {
        var drafts = _docs.Where(d => d.State == "draft").ToList();
        if (drafts.Count == 0) return false;
        var doc = Pick(drafts);
        Begin($"delete draft {doc.Label}");
        await ExpectAsync(await Admin.DeleteAsync($"{Url(Route(doc.Kind))}/{doc.Id}"), HttpStatusCode.NoContent);
        _docs.Remove(doc);
        Same($"GET deleted {doc.Label}", HttpStatusCode.NotFound, (await Admin.GetAsync($"{Url(Route(doc.Kind))}/{doc.Id}")).StatusCode);
        Seen("draft deleted");
        return true;
    }

    /// <summary>
    /// A payment in from a customer or out to a vendor (a refund: the other way), settling 0–2 open documents of the
    /// party in full or in part, sometimes with more than it settles, which stays on the party as credit.
    /// </summary>
    private async Task<bool> PayAsync(bool customer, bool refund)
    {
        var party = Pick(customer ? _customers : _vendors);
        var inward = customer != refund;
        var sign = inward ? -1 : 1;
        var open = _docs.Where(d => d.Party == party && d.Live && Open(d) > 0 && Math.Sign(d.Signed) == -sign).ToArray();
        _random.Shuffle(open);
        var allocations = open.Take(_random.Next(Math.Min(2, open.Length) + 1))
            .Select(d => (Doc: d, Amount: _random.Next(2) == 0 ? Open(d) : RandomUpTo(Open(d)))).ToList();
        var extra = allocations.Count == 0 || _random.Next(3) == 0 ? RandomUpTo(refund ? 30_000 : 150_000) : 0;
        var amount = allocations.Sum(a => a.Amount) + extra;
        var expected = ExpectPayment(party, inward, amount, allocations);
        Assert.Equal(HttpStatusCode.Created, expected); // the model's own consistency
        await PostPaymentAsync(party, inward, amount, allocations, expected);
        if (refund) Seen(customer ? "customer refund" : "vendor refund");
        if (allocations.Count > 0 && extra > 0) Seen("over-payment");
        if (allocations.Any(a => a.Doc.Live && Allocated(a.Doc) > 0 && Open(a.Doc) > 0)) Seen("partly paid");
        return true;
    }

    private async Task PostPaymentAsync(Party party, bool inward, long amount, IReadOnlyList<(Doc Doc, long Amount)> allocations, HttpStatusCode expected)
    {
        var date = RandomDate();
        var account = _random.Next(4) == 0 ? "1000" : "1010";
        var body = new JsonObject
        {
            [party.Field] = party.Id,
            ["date"] = date,
            ["amount"] = Format(amount),
            ["account"] = account,
        };
        // The direction defaults to money in from a customer and out to a vendor; half the time it is said anyway.
        if (inward != party.IsCustomer || _random.Next(2) == 0) body["direction"] = inward ? "in" : "out";
        if (allocations.Count > 0)
            body["allocations"] = new JsonArray([.. allocations.Select(a => (JsonNode)new JsonObject { ["document"] = a.Doc.Id, ["amount"] = Format(a.Amount) })]);
        Begin($"payment {(inward ? "in from" : "out to")} {party.Name} of {Format(amount)} dated {date} via {account}, allocating " +
            (allocations.Count == 0 ? "nothing" : string.Join(", ", allocations.Select(a => $"{Format(a.Amount)} to {a.Doc.Label} (open {Format(Open(a.Doc))})"))));
        if (expected != HttpStatusCode.Created)
        {
            await AssertWritesNothingAsync(async () => await ExpectAsync(await Admin.PostJsonAsync(Url("payments"), body), expected),
                allocations.Select(a => (Item)a.Doc));
            return;
        }
        var json = (await ExpectAsync(await Admin.PostJsonAsync(Url("payments"), body), expected))!;
        var pay = new Pay { Id = json["id"]!.GetValue<long>(), Party = party, Date = date, In = inward, Amount = amount, Account = account };
        _payments.Add(pay);
        Note($"  -> {pay.Label}");
        var applied = Applied(json);
        Same("allocations made with the payment", allocations.Count, applied.Count);
        foreach (var (doc, allocated) in allocations)
        {
            var made = applied.SingleOrDefault(a => a.Against == doc.Id);
            Assert.True(made.Id != 0, $"The payment's allocations do not name {doc.Label}: {json["allocations"]?.ToJsonString()}");
            Same($"allocation to {doc.Label}", Format(allocated), made.Amount);
            _allocations.Add(new Alloc { Id = made.Id, A = pay, B = doc, Amount = allocated, Date = Later(pay.Date, doc.Date) });
        }
        var postings = PayPostings(pay);
        Post(date, postings);
        await AssertEntryAsync(json["journalEntryId"]!.GetValue<long>(), date, postings);
        AssertPay(pay, json);
        foreach (var (doc, _) in allocations) await AssertItemAsync(doc);
    }

    /// <summary>A standalone allocation the contract allows: mostly an invoice or bill with what settles it, in either order.</summary>
    private async Task<bool> AllocateAsync()
    {
        var pairs = OppositePairs().ToList();
        if (pairs.Count == 0) return false;
        var settling = pairs.Where(p => p.Debit is Doc { Kind: Kind.Invoice } || p.Credit is Doc { Kind: Kind.Bill }).ToList();
        var (debit, credit) = settling.Count > 0 && _random.Next(5) != 0 ? Pick(settling) : Pick(pairs);
        var most = Math.Min(Open(debit), Open(credit));
        var amount = _random.Next(5) < 2 ? most : RandomUpTo(most);
        await PostAllocationAsync(debit, credit, amount);
        Seen("allocation");
        return true;
    }

    private async Task PostAllocationAsync(Item first, Item second, long amount)
    {
        // The invoice or bill is usually the "document", but either order is allowed.
        var firstIsInvoiceOrBill = first is Doc { Kind: Kind.Invoice or Kind.Bill };
        var usualOrder = _random.Next(4) != 0;
        var (document, against) = firstIsInvoiceOrBill == usualOrder ? (first, second) : (second, first);
        var expected = ExpectAllocation(document, against, amount);
        Begin($"allocate {Format(amount)}: document {document.Label} (open {Format(Open(document))}) against {against.Label} (open {Format(Open(against))})");
        var body = new { document = document.Id, against = against.Id, amount = Format(amount) };
        if (expected != HttpStatusCode.Created)
        {
            await AssertWritesNothingAsync(async () => await ExpectAsync(await Admin.PostJsonAsync(Url("allocations"), body), expected), [document, against]);
            return;
        }
        var json = (await ExpectAsync(await Admin.PostJsonAsync(Url("allocations"), body), expected))!;
        var allocation = new Alloc
        {
            Id = json["id"]!.GetValue<long>(), A = document, B = against, Amount = amount, Date = Later(document.Date, against.Date),
        };
        // Asked in either order, the allocation names the same two items (the API may answer them in its own order).
        Same("allocation's two items (document, against)", string.Join(",", new[] { document.Id, against.Id }.Order()),
            string.Join(",", new[] { json["document"]!.GetValue<long>(), json["against"]!.GetValue<long>() }.Order()));
        if (json["document"]!.GetValue<long>() != document.Id) Seen("allocation answered in the other order");
        Same("allocation amount", Format(amount), S(json, "amount"));
        Same("allocation date (the later of the two)", allocation.Date, S(json, "date"));
        Same("allocation undoneAt", null, S(json, "undoneAt"));
        _allocations.Add(allocation);
        await AssertItemAsync(document);
        await AssertItemAsync(against);
    }

    private async Task<bool> UndoAsync()
    {
        var active = _allocations.Where(a => !a.Undone).ToList();
        if (active.Count == 0) return false;
        var allocation = Pick(active);
        Begin($"undo allocation {allocation.Id} of {Format(allocation.Amount)} between {allocation.A.Label} and {allocation.B.Label}");
        var json = (await ExpectAsync(await Admin.DeleteAsync(Url($"allocations/{allocation.Id}")), HttpStatusCode.OK))!;
        Assert.True(S(json, "undoneAt") is not null, $"undoneAt is missing: {json.ToJsonString()}");
        allocation.Undone = true;
        await AssertItemAsync(allocation.A);
        await AssertItemAsync(allocation.B);
        Seen("undo");
        return true;
    }

    private async Task<bool> UndoTwiceAsync()
    {
        var undone = _allocations.Where(a => a.Undone).ToList();
        if (undone.Count == 0) return false;
        var allocation = Pick(undone);
        Begin($"undo allocation {allocation.Id} again");
        await AssertWritesNothingAsync(async () => await ExpectAsync(await Admin.DeleteAsync(Url($"allocations/{allocation.Id}")), HttpStatusCode.Conflict),
            [allocation.A, allocation.B]);
        Seen("undo refused");
        return true;
    }

    /// <summary>Voids an issued document or a payment: refused while it has allocations, a reversal otherwise.</summary>
    private async Task<bool> VoidAsync() => await VoidAsync(payment: null, withAllocations: null);

    private async Task<bool> VoidAsync(bool? payment, bool? withAllocations)
    {
        var live = Items.Where(i => i.Live && (payment is null || payment == i is Pay) && (withAllocations is null || withAllocations == Allocated(i) > 0)).ToList();
        if (live.Count == 0) return false;
        // Two times in five one with allocations, to see the refusal; otherwise one without, to see the reversal.
        var allocated = live.Where(i => Allocated(i) > 0).ToList();
        var free = live.Where(i => Allocated(i) == 0).ToList();
        var item = free.Count == 0 || (allocated.Count > 0 && _random.Next(5) < 2) ? Pick(allocated) : Pick(free);
        var expected = Allocated(item) > 0 ? HttpStatusCode.Conflict : HttpStatusCode.Created;
        string? date = null;
        if (item is Doc && _random.Next(3) == 0)
        {
            var later = Day(item.Date).AddDays(_random.Next(1, 45));
            date = Text(later > Day(LastDay) ? Day(LastDay) : later);
        }
        var url = item is Doc doc ? $"{Url(Route(doc.Kind))}/{item.Id}/void" : Url($"payments/{item.Id}/void");
        object body = date is null ? new { } : new { date };
        Begin($"void {item.Label} (allocated {Format(Allocated(item))}){(date is null ? "" : $" dated {date}")}");
        if (expected != HttpStatusCode.Created)
        {
            await AssertWritesNothingAsync(async () => await ExpectAsync(await Admin.PostJsonAsync(url, body), expected), [item]);
            Seen("void refused: allocated");
            return true;
        }
        var json = (await ExpectAsync(await Admin.PostJsonAsync(url, body), expected))!;
        var reversal = Reversal(item is Doc d ? DocPostings(d) : PayPostings((Pay)item));
        Post(date ?? item.Date, reversal);
        if (item is Doc voided)
        {
            voided.State = "void";
            AssertDoc(voided, json);
            Seen("void document");
        }
        else
        {
            ((Pay)item).Void = true;
            AssertPay((Pay)item, json);
            Seen("void payment");
        }
        return true;
    }

    private async Task<bool> VoidVoidOrDraftAsync()
    {
        var candidates = Items.Where(i => !i.Live).ToList();
        if (candidates.Count == 0) return false;
        var item = Pick(candidates);
        var url = item is Doc doc ? $"{Url(Route(doc.Kind))}/{item.Id}/void" : Url($"payments/{item.Id}/void");
        Begin($"void {item.Label}, which is {(item is Doc d ? d.State : "void")}");
        await AssertWritesNothingAsync(async () => await ExpectAsync(await Admin.PostJsonAsync(url, new { }), HttpStatusCode.Conflict), [item]);
        Seen("void refused: void or draft");
        return true;
    }

    /// <summary>An allocation the contract refuses (409) and which must write nothing: one of the kinds that apply now.</summary>
    private async Task<bool> RefusedAllocationAsync() => await RefusedAllocationAsync(only: null);

    private async Task<bool> RefusedAllocationAsync(string? only)
    {
        var open = Items.Where(i => i.Live && Open(i) > 0).ToList();
        var variants = new List<(string Seen, Item A, Item B, long Amount)>();

        // More than what is open on the smaller side (by a cent, or by far).
        var pairs = OppositePairs().ToList();
        if (pairs.Count > 0)
        {
            var (debit, credit) = Pick(pairs);
            variants.Add(("refused: over-allocation", debit, credit,
                Math.Min(Open(debit), Open(credit)) + RandomUpTo(_random.Next(2) == 0 ? 1 : 50_000)));
        }

        // Opposite sides of two different parties, mostly of the same kind (two customers, two vendors).
        var crossParty = open.Where(d => d.Signed > 0).SelectMany(d => open.Where(c => c.Signed < 0 && c.Party != d.Party).Select(c => (d, c))).ToList();
        if (crossParty.Count > 0)
        {
            var sameKind = crossParty.Where(p => p.d.Party.IsCustomer == p.c.Party.IsCustomer).ToList();
            var (debit, credit) = sameKind.Count > 0 && _random.Next(4) != 0 ? Pick(sameKind) : Pick(crossParty);
            variants.Add(("refused: cross-party", debit, credit, RandomUpTo(Math.Min(Open(debit), Open(credit)))));
        }

        // A void or a draft document with an open item of its party on the other side.
        foreach (var state in new[] { "void", "draft" })
        {
            var dead = _docs.Where(d => d.State == state)
                .SelectMany(d => open.Where(i => i.Party == d.Party && Math.Sign(i.Signed) == -Math.Sign(d.Signed)).Select(i => (d, i)))
                .ToList();
            if (dead.Count == 0) continue;
            var (doc, other) = Pick(dead);
            variants.Add((state == "void" ? "refused: void document" : "refused: draft", doc, other, RandomUpTo(Math.Min(doc.Full, Open(other)))));
        }

        // Two open items on the same side: two invoices, an invoice and a refund, two bills, ...
        var sameSide = open.SelectMany(a => open.Where(b => b.Id > a.Id && b.Party == a.Party && Math.Sign(b.Signed) == Math.Sign(a.Signed)).Select(b => (a, b))).ToList();
        if (sameSide.Count > 0)
        {
            var (a, b) = Pick(sameSide);
            variants.Add(("refused: same side", a, b, RandomUpTo(Math.Min(Open(a), Open(b)))));
        }

        if (only is not null) variants.RemoveAll(v => v.Seen != only);
        if (variants.Count == 0) return false;
        var chosen = Pick(variants);
        Assert.Equal(HttpStatusCode.Conflict, ExpectAllocation(chosen.A, chosen.B, chosen.Amount)); // the model's own consistency
        await PostAllocationAsync(chosen.A, chosen.B, chosen.Amount);
        Seen(chosen.Seen);
        return true;
    }

    /// <summary>A payment whose allocations the contract refuses (409): nothing is written, not even the payment.</summary>
    private async Task<bool> RefusedPaymentAsync()
    {
        var open = _docs.Where(d => d.Live && Open(d) > 0).ToList();
        var dead = _docs.Where(d => !d.Live).ToList();
        var variants = new List<(Party Party, Doc Doc, long Allocation, long Amount)>();
        if (open.Count > 0)
        {
            // More than the document's open amount (by a cent, or by far).
            var doc = Pick(open);
            var allocation = Open(doc) + RandomUpTo(_random.Next(2) == 0 ? 1 : 20_000);
            variants.Add((doc.Party, doc, allocation, allocation + RandomUpTo(10_000)));
            // Another party's document (of the same kind).
            doc = Pick(open);
            var other = doc.Party;
            variants.Add((Pick((other.IsCustomer ? _customers : _vendors).Where(p => p != other).ToList()), doc, RandomUpTo(Open(doc)), Open(doc)));
        }
        var twoCents = open.Where(d => Open(d) >= 2).ToList();
        if (twoCents.Count > 0)
        {
            // Allocations beyond the payment's own amount.
            var doc = Pick(twoCents);
            var allocation = 1 + RandomUpTo(Open(doc) - 1);
            variants.Add((doc.Party, doc, allocation, allocation - RandomUpTo(allocation - 1)));
        }
        if (dead.Count > 0)
        {
            // A void or draft document.
            var doc = Pick(dead);
            var allocation = RandomUpTo(doc.Full);
            variants.Add((doc.Party, doc, allocation, allocation + RandomUpTo(5_000)));
        }
        if (variants.Count == 0) return false;
        var (party, target, allocated, amount) = Pick(variants);
        // The payment that would settle the document: money in against an invoice or a vendor credit, out against a bill or a credit note.
        var inward = target.Signed > 0;
        List<(Doc, long)> allocations = [(target, allocated)];
        var expected = ExpectPayment(party, inward, amount, allocations);
        Assert.Equal(HttpStatusCode.Conflict, expected); // the model's own consistency
        await PostPaymentAsync(party, inward, amount, allocations, expected);
        Seen("payment refused");
        return true;
    }

    /// <summary>Does the first thing in <see cref="Required"/> the history has not done yet and can do now.</summary>
    private async Task<bool> CatchUpAsync()
    {
        foreach (var what in Required.Where(r => !_seen.ContainsKey(r)))
            if (await TargetedAsync(what)) return true;
        return false;
    }

    /// <summary>A step towards <paramref name="what"/>: the step itself, or one that makes it possible (a draft to refuse, say).</summary>
    private async Task<bool> TargetedAsync(string what) => what switch
    {
        "Invoice issued" => await CreateDocumentAsync(Kind.Invoice, issue: true),
        "Bill issued" => await CreateDocumentAsync(Kind.Bill, issue: true),
        "CreditNote issued" => await CreateDocumentAsync(Kind.CreditNote, issue: true),
        "VendorCredit issued" => await CreateDocumentAsync(Kind.VendorCredit, issue: true),
        "draft issued" => await IssueDraftAsync() || await CreateDocumentAsync(Pick(Enum.GetValues<Kind>()), issue: false),
        "partly paid" or "over-payment" => await PayAsync(customer: _random.Next(2) == 0, refund: false),
        "customer refund" => await PayAsync(customer: true, refund: true),
        "vendor refund" => await PayAsync(customer: false, refund: true),
        "allocation" => await AllocateAsync(),
        "undo" => await UndoAsync(),
        "undo refused" => await UndoTwiceAsync() || await UndoAsync(),
        "void document" => await VoidAsync(payment: false, withAllocations: false),
        "void payment" => await VoidAsync(payment: true, withAllocations: false),
        "void refused: allocated" => await VoidAsync(payment: null, withAllocations: true),
        "void refused: void or draft" => await VoidVoidOrDraftAsync(),
        "refused: void document" => await RefusedAllocationAsync(what) || await VoidAsync(payment: false, withAllocations: false),
        "refused: draft" => await RefusedAllocationAsync(what) || await CreateDocumentAsync(Pick(Enum.GetValues<Kind>()), issue: false),
        "payment refused" => await RefusedPaymentAsync(),
        _ => await RefusedAllocationAsync(what),
    };

    private async Task RecordIssueAsync(Doc doc, JsonNode json)
    {
        doc.State = "issued";
        var count = ++_issued[doc.Kind];
        var number = S(json, "number");
        Assert.True(number is not null && number.LastIndexOf('-') > 0, $"{doc.Label}: issued without a number: {json.ToJsonString()}");
        var dash = number.LastIndexOf('-');
        // Gapless per kind: the n-th issued document of a kind carries n.
        Same($"{doc.Label} number", count.ToString("D6", CultureInfo.InvariantCulture), number[(dash + 1)..]);
        if (_prefixes.TryGetValue(doc.Kind, out var prefix)) Same($"{doc.Label} number prefix", prefix, number[..dash]);
        else _prefixes[doc.Kind] = number[..dash];
        doc.Number = number;
        var postings = DocPostings(doc);
        Post(doc.Date, postings);
        await AssertEntryAsync(json["journalEntryId"]!.GetValue<long>(), doc.Date, postings);
        Seen($"{doc.Kind} issued");
    }

    // --- checks ---

    private async Task CheckAllAsync(bool final)
    {
        Note($"check at step {_step}");
        foreach (var kind in Enum.GetValues<Kind>())
        {
            var listed = await ListAsync(Route(kind));
            var model = _docs.Where(d => d.Kind == kind).ToDictionary(d => d.Id);
            Same($"{kind} ids listed", string.Join(",", model.Keys.Order()), string.Join(",", listed.Keys.Order()));
            foreach (var (id, json) in listed) AssertDoc(model[id], json);
        }
        var payments = await ListAsync("payments");
        Same("payment ids listed", string.Join(",", _payments.Select(p => p.Id).Order()), string.Join(",", payments.Keys.Order()));
        foreach (var pay in _payments) AssertPay(pay, payments[pay.Id]);
        if (final)
        {
            foreach (var item in Items) await AssertItemAsync(item);
            foreach (var kind in new[] { Kind.Invoice, Kind.Bill })
                foreach (var status in new[] { "draft", "open", "partiallyPaid", "paid", "void" })
                {
                    var listed = await ListAsync(Route(kind), $"status={status}");
                    Same($"{kind} ids listed with status={status}",
                        string.Join(",", _docs.Where(d => d.Kind == kind && ExpectedStatus(d) == status).Select(d => d.Id).Order()),
                        string.Join(",", listed.Keys.Order()));
                }
        }

        // The tie-out: each control account equals what is open on its parties, per party and in total.
        var openByParty = _customers.Concat(_vendors).ToDictionary(p => p.Id,
            p => Items.Where(i => i.Party == p && i.Live).Sum(SignedOpen));
        var postedByParty = new Dictionary<long, long>();
        foreach (var entry in await App.AllEntriesAsync(_book))
            foreach (var line in entry["lines"]!.AsArray())
            {
                var party = line!["customer"] ?? line["vendor"];
                if (party is null) continue;
                var id = party.GetValue<long>();
                postedByParty[id] = postedByParty.GetValueOrDefault(id) + Signed(line);
            }
        foreach (var party in _customers.Concat(_vendors))
            Same($"control lines naming {party.Name} against its open items", Format(openByParty[party.Id]), Format(postedByParty.GetValueOrDefault(party.Id)));
        // Balances are on the normal side: receivables (an asset) debit-positive, payables (a liability) credit-positive.
        var receivables = _customers.Sum(c => openByParty[c.Id]);
        var payables = -_vendors.Sum(v => openByParty[v.Id]);
        Same("1200 against the customers' open items", Format(receivables), S(await App.AccountAsync(_book, Receivables), "balance"));
        Same("2000 against the vendors' open items", Format(payables), S(await App.AccountAsync(_book, Payables), "balance"));
        Same("the model's own 1200", receivables, _ledger.Balance(Receivables));
        Same("the model's own 2000", payables, _ledger.Balance(Payables));

        // The aged receivables and payables, once the app serves them (being built alongside; on main they exist).
        var middle = RandomDate();
        if (_agingReports)
        {
            await AssertAgingAsync(LastDay, openByParty);
            await AssertAgingAsync(middle, openByParty);
        }
        else Seen("aging reports not served");

        // The trial balance, now and at a date in the middle of the history, balances and equals the model's.
        foreach (var asOf in new[] { LastDay, middle })
        {
            var trialBalance = await App.TrialBalanceAsync(_book, asOf);
            Same($"trial balance at {asOf}: debit total against credit total",
                S(trialBalance["totals"], "debit"), S(trialBalance["totals"], "credit"));
            LedgerModel.AssertSameTrialBalance(_ledger.TrialBalance(asOf, "EUR"), trialBalance);
        }
    }

    /// <summary>Records an entry the model expects: in its ledger, and each control line with its party and date.</summary>
    private void Post(string date, IReadOnlyList<Posting> postings)
    {
        _ledger.Add(date, postings.Select(p => new LedgerModel.Line(p.Account, p.Signed)));
        foreach (var posting in postings.Where(p => p.Party is not null)) _controlPostings.Add((date, posting.Party!, posting.Signed));
    }

    /// <summary>
    /// The aged receivables (and payables) report at a date: each party's total is what is open on it then, which is
    /// the sum of its control lines dated on or before then (allocations only match items of one party); at the last
    /// day, the model's open items. The control account's balance is the account's, and the difference is zero.
    /// </summary>
    private async Task AssertAgingAsync(string asOf, Dictionary<long, long> openNow)
    {
        foreach (var (report, parties, control, owedSign) in new[]
        {
            ("aged-receivables", _customers, Receivables, 1),
            ("aged-payables", _vendors, Payables, -1),
        })
        {
            var aging = await Admin.GetJsonAsync($"{Url($"reports/{report}")}?asOf={asOf}");
            var listed = aging["parties"]!.AsArray().ToDictionary(p => p!["id"]!.GetValue<long>());
            foreach (var party in parties)
            {
                var expected = owedSign * _controlPostings.Where(p => p.Party == party && string.CompareOrdinal(p.Date, asOf) <= 0).Sum(p => p.Signed);
                if (asOf == LastDay) Same($"the model's own open items of {party.Name} at {asOf}", owedSign * openNow[party.Id], expected);
                var line = listed.GetValueOrDefault(party.Id);
                Same($"{report} at {asOf}: total of {party.Name}", Format(expected), line is null ? Format(0) : S(line, "total"));
                if (line is not null)
                    Same($"{report} at {asOf}: columns of {party.Name} add up to its total", S(line, "total"),
                        Format(line["columns"]!.AsObject().Sum(c => Money.Parse(c.Value!.GetValue<string>(), 2))));
            }
            Assert.True(listed.Keys.All(id => parties.Any(p => p.Id == id)), $"{report} lists a party of another kind: {aging.ToJsonString()}");
            var total = parties.Sum(party => owedSign * _controlPostings.Where(p => p.Party == party && string.CompareOrdinal(p.Date, asOf) <= 0).Sum(p => p.Signed));
            Same($"{report} at {asOf}: total", Format(total), S(aging["totals"], "total"));
            Same($"{report} at {asOf}: control account", control, S(aging["controlAccount"], "account"));
            var balance = _ledger.Totals(control, asOf);
            Same($"{report} at {asOf}: control account balance", Format(owedSign * (balance.Debit - balance.Credit)), S(aging["controlAccount"], "balance"));
            Same($"{report} at {asOf}: difference", "0.00", S(aging, "difference"));
        }
    }

    private async Task AssertItemAsync(Item item)
    {
        var url = item is Doc doc ? $"{Url(Route(doc.Kind))}/{item.Id}" : Url($"payments/{item.Id}");
        var json = await Admin.GetJsonAsync(url);
        if (item is Doc d) AssertDoc(d, json);
        else AssertPay((Pay)item, json);
    }

    private void AssertDoc(Doc doc, JsonNode json)
    {
        var what = doc.Label;
        Same($"{what} id", doc.Id, json["id"]?.GetValue<long>());
        Same($"{what} status", ExpectedStatus(doc), S(json, "status"));
        Same($"{what} {doc.Party.Field}", doc.Party.Id, json[doc.Party.Field]?.GetValue<long>());
        Same($"{what} date", doc.Date, S(json, "date"));
        Same($"{what} gross", Format(doc.Gross), S(json["totals"], "gross"));
        var lines = json["lines"]!.AsArray();
        Same($"{what} line count", doc.Lines.Count, lines.Count);
        for (var i = 0; i < doc.Lines.Count; i++)
        {
            Same($"{what} lines[{i}].account", doc.Lines[i].Account, S(lines[i], "account"));
            Same($"{what} lines[{i}].net ({doc.Lines[i].QuantityText} × {doc.Lines[i].UnitPriceText})", Format(doc.Lines[i].Net), S(lines[i], "net"));
        }
        if (doc.State != "draft") Same($"{what} number", doc.Number, S(json, "number"));
        else Same($"{what} number", null, S(json, "number"));
        if (doc.State == "issued")
        {
            Same($"{what} amountPaid", Format(Allocated(doc)), S(json, "amountPaid"));
            Same($"{what} amountDue", Format(Open(doc)), S(json, "amountDue"));
        }
        if (doc.State == "void") Same($"{what} amountDue", "0.00", S(json, "amountDue"));
        AssertApplied(doc, json);
    }

    private void AssertPay(Pay pay, JsonNode json)
    {
        var what = pay.Label;
        Same($"{what} id", pay.Id, json["id"]?.GetValue<long>());
        Same($"{what} {pay.Party.Field}", pay.Party.Id, json[pay.Party.Field]?.GetValue<long>());
        Same($"{what} direction", pay.In ? "in" : "out", S(json, "direction"));
        Same($"{what} date", pay.Date, S(json, "date"));
        Same($"{what} amount", Format(pay.Amount), S(json, "amount"));
        Same($"{what} account", pay.Account, S(json, "account"));
        // The contract names only "void" among a payment's statuses.
        Same($"{what} is void", pay.Void, S(json, "status") == "void");
        if (!pay.Void)
        {
            Same($"{what} allocated", Format(Allocated(pay)), S(json, "allocated"));
            Same($"{what} unallocated", Format(Open(pay)), S(json, "unallocated"));
        }
        AssertApplied(pay, json);
    }

    /// <summary>The allocations an item lists are its active ones in the model: id, the other item, amount, date.</summary>
    private void AssertApplied(Item item, JsonNode json)
    {
        var expected = Active(item).Select(a => $"{a.Id}:{a.Other(item).Id}:{Format(a.Amount)}:{a.Date}").Order(StringComparer.Ordinal);
        var actual = Applied(json).Select(a => $"{a.Id}:{a.Against}:{a.Amount}:{a.Date}").Order(StringComparer.Ordinal);
        Same($"{item.Label} allocations (id:against:amount:date)", string.Join(" ", expected), string.Join(" ", actual));
    }

    /// <summary>The entry posted is the model's: per account and party, the same signed sums, on the same date.</summary>
    private async Task AssertEntryAsync(long entryId, string date, IReadOnlyList<Posting> expected)
    {
        var entry = await Admin.GetJsonAsync($"{EntriesUrl(_book)}/{entryId}");
        Same($"entry {entryId} date", date, S(entry, "date"));
        var actual = entry["lines"]!.AsArray().GroupBy(l =>
            {
                var account = S(l, "account");
                return l!["customer"] is { } c ? $"{account}/customer:{c}" : l["vendor"] is { } v ? $"{account}/vendor:{v}" : account!;
            })
            .Select(g => $"{g.Key}={Format(g.Sum(Signed))}").Order(StringComparer.Ordinal);
        var model = expected.GroupBy(p => p.Key).Select(g => $"{g.Key}={Format(g.Sum(p => p.Signed))}").Order(StringComparer.Ordinal);
        Same($"entry {entryId} lines (account/party=signed)", string.Join(" ", model), string.Join(" ", actual));
    }

    /// <summary>Runs a request the model refuses: the book (accounts, entries, trial balance) and the items involved stay as they were.</summary>
    private async Task AssertWritesNothingAsync(Func<Task> refused, IEnumerable<Item> involved)
    {
        var before = await App.SnapshotAsync(_book);
        await refused();
        Assert.True(before == await App.SnapshotAsync(_book), "A refused request changed the book.");
        foreach (var item in involved.Distinct()) await AssertItemAsync(item);
    }

    private async Task<JsonNode?> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected} {expected}, got {(int)response.StatusCode}: {body}");
        if ((int)expected >= 400)
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return body.Length == 0 ? null : JsonNode.Parse(body);
    }

    private async Task<Dictionary<long, JsonNode>> ListAsync(string route, string query = "")
    {
        var items = new Dictionary<long, JsonNode>();
        foreach (var item in await Admin.AllPagesAsync($"{Url(route)}?limit=50" + (query.Length > 0 ? $"&{query}" : ""), maxPages: 1000))
            Assert.True(items.TryAdd(item["id"]!.GetValue<long>(), item), $"The {route} list has {item["id"]} twice.");
        return items;
    }

    // --- helpers ---

    private async Task WithContextAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e)
        {
            throw new XunitException(
                $"Seed {_seed} (LEDGER_SUBLEDGER_SEED={_seed} replays it), step {_step} of {Steps}.\nLast steps:\n{string.Join("\n", _log.TakeLast(12))}\n\n{e.Message}", e);
        }
    }

    private void Begin(string action) => Note($"{_step}: {action}");

    private void Note(string text) => _log.Add(text);

    private void Seen(string what) => _seen[what] = _seen.GetValueOrDefault(what) + 1;

    private static void Same<T>(string what, T expected, T actual) =>
        Assert.True(EqualityComparer<T>.Default.Equals(expected, actual), $"{what}: expected {Show(expected)}, got {Show(actual)}");

    /// <summary>What a history must have done (see <see cref="TargetedAsync"/>).</summary>
    private static readonly string[] Required =
    [
        "Invoice issued", "Bill issued", "CreditNote issued", "VendorCredit issued", "draft issued", "partly paid",
        "over-payment", "customer refund", "vendor refund", "allocation", "undo", "undo refused", "void document",
        "void payment", "void refused: allocated", "void refused: void or draft", "refused: over-allocation",
        "refused: cross-party", "refused: void document", "refused: draft", "refused: same side", "payment refused",
    ];

    private static string Show<T>(T value) => value is null ? "null" : $"'{value}'";

    private IEnumerable<(Item Debit, Item Credit)> OppositePairs()
    {
        var open = Items.Where(i => i.Live && Open(i) > 0).ToList();
        return open.Where(i => i.Signed > 0).SelectMany(d => open.Where(c => c.Signed < 0 && c.Party == d.Party).Select(c => (d, c)));
    }

    private static List<(long Id, long Against, string? Amount, string? Date)> Applied(JsonNode json) =>
        (json["allocations"]?.AsArray() ?? new JsonArray()).Select(a => (a!["id"]!.GetValue<long>(), a["against"]!.GetValue<long>(), S(a, "amount"), S(a, "date"))).ToList();

    private static long Signed(JsonNode? line) =>
        line!["debit"] is { } debit ? Money.Parse(debit.GetValue<string>(), 2) : -Money.Parse(line["credit"]!.GetValue<string>(), 2);

    private static string? S(JsonNode? node, string property) => node?[property]?.GetValue<string>();

    private static string Format(long cents) => Money.Format(cents, 2);

    private string Url(string route) => $"/v1/books/{_book}/{route}";

    private static string Route(Kind kind) => kind switch
    {
        Kind.Invoice => "invoices",
        Kind.CreditNote => "credit-notes",
        Kind.Bill => "bills",
        _ => "vendor-credits",
    };

    private static bool IsSales(Kind kind) => kind is Kind.Invoice or Kind.CreditNote;

    private static JsonObject DocBody(Party party, string date, IReadOnlyList<DocLine> lines, bool issue)
    {
        var body = new JsonObject
        {
            [party.Field] = party.Id,
            ["date"] = date,
            ["lines"] = new JsonArray([.. lines.Select((l, i) =>
            {
                var line = new JsonObject { ["description"] = $"Line {i + 1}", ["unitPrice"] = l.UnitPriceText, ["account"] = l.Account };
                if (l.Quantity is not null) line["quantity"] = l.QuantityText;
                return (JsonNode)line;
            })]),
        };
        if (issue) body["issue"] = true;
        return body;
    }

    /// <summary>1–3 lines on the kind's accounts; quantities and unit prices with up to two decimals, written either way.</summary>
    private List<DocLine> RandomLines(Kind kind)
    {
        string[] accounts = IsSales(kind) ? ["4000", "4900"] : ["6000", "6300"];
        var credit = kind is Kind.CreditNote or Kind.VendorCredit;
        return Enumerable.Range(0, _random.Next(1, 4)).Select(_ =>
        {
            long? quantity = _random.Next(3) == 0 ? null : _random.Next(4) == 0 ? 100L * _random.Next(1, 13) : _random.Next(25, 2001);
            var price = (long)_random.Next(50, credit ? 20_001 : 120_001);
            return new DocLine(quantity, price, Pick(accounts), quantity is { } q ? DecimalText(q) : "1", DecimalText(price));
        }).ToList();
    }

    /// <summary>Hundredths as decimal text: "2.5" or "2.50", "3" or "3.00".</summary>
    private string DecimalText(long hundredths) => _random.Next(2) == 0
        ? (hundredths / 100m).ToString("0.##", CultureInfo.InvariantCulture)
        : Money.Format(hundredths, 2);

    private static string Describe(IEnumerable<DocLine> lines) =>
        string.Join("; ", lines.Select(l => $"{l.QuantityText} × {l.UnitPriceText} on {l.Account} = {Format(l.Net)}"));

    private T Pick<T>(IReadOnlyList<T> list) => list[_random.Next(list.Count)];

    private long RandomUpTo(long most) => 1 + _random.NextInt64(most);

    private string RandomDate() => Text(Day(FirstDay).AddDays(_random.Next(Day(LastDay).DayNumber - Day(FirstDay).DayNumber + 1)));

    private static string Later(string a, string b) => string.CompareOrdinal(a, b) >= 0 ? a : b;

    private static DateOnly Day(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
