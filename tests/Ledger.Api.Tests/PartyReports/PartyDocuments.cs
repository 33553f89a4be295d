using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.PartyReports;

/// <summary>One line of a document as the party reports tests write it: a net price, the account, an optional tax rate.</summary>
public sealed record Line(string UnitPrice, string? TaxRate = null, string? Account = null);

/// <summary>Issues documents and records payments for the party reports tests, asserting each is created.</summary>
public static class PartyDocuments
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    /// <summary>Issues (or, with issue: false, drafts) a document of <paramref name="route"/>; returns its id.</summary>
    public static async Task<long> DocumentAsync(this HttpClient admin, string book, string route, long party, string date, Line[] lines,
        string? dueDate = null, string? reference = null, long? corrects = null, bool issue = true)
    {
        var customer = route is "invoices" or "credit-notes";
        var body = new JsonObject
        {
            [customer ? "customer" : "vendor"] = party,
            ["date"] = date,
            ["issue"] = issue,
            ["lines"] = new JsonArray(lines.Select(l => (JsonNode)new JsonObject
            {
                ["description"] = "Work",
                ["unitPrice"] = l.UnitPrice,
                ["account"] = l.Account ?? (customer ? "4000" : "6000"),
                ["taxRate"] = l.TaxRate,
            }).ToArray()),
        };
        if (dueDate is not null) body["dueDate"] = dueDate;
        if (reference is not null) body["reference"] = reference;
        if (corrects is not null) body[route == "credit-notes" ? "invoice" : "bill"] = corrects;
        return (await (await admin.PostRawAsync(Url(book, route), body.ToJsonString())).AssertCreatedAsync())["id"]!.GetValue<long>();
    }

    public static Task<long> InvoiceAsync(this HttpClient admin, string book, long customer, string date, string amount,
        string? dueDate = null, string? reference = null) =>
        admin.DocumentAsync(book, "invoices", customer, date, [new Line(amount)], dueDate, reference);

    public static Task<long> BillAsync(this HttpClient admin, string book, long vendor, string date, string amount, string? dueDate = null) =>
        admin.DocumentAsync(book, "bills", vendor, date, [new Line(amount)], dueDate);

    /// <summary>Records a payment (in from a customer, out to a vendor unless direction says otherwise) with its allocations.</summary>
    public static async Task<long> PaymentAsync(this HttpClient admin, string book, long party, bool customer, string date, string amount,
        string? reference = null, string? direction = null, params (long Document, string Amount)[] allocations)
    {
        var body = new JsonObject
        {
            [customer ? "customer" : "vendor"] = party,
            ["date"] = date,
            ["amount"] = amount,
            ["account"] = "1010",
            ["allocations"] = new JsonArray(allocations.Select(a => (JsonNode)new JsonObject { ["document"] = a.Document, ["amount"] = a.Amount }).ToArray()),
        };
        if (reference is not null) body["reference"] = reference;
        if (direction is not null) body["direction"] = direction;
        return (await (await admin.PostRawAsync(Url(book, "payments"), body.ToJsonString())).AssertCreatedAsync())["id"]!.GetValue<long>();
    }

    public static async Task<long> AllocateAsync(this HttpClient admin, string book, long document, long against, string amount) =>
        (await (await admin.PostJsonAsync(Url(book, "allocations"), new { document, against, amount })).AssertCreatedAsync())["id"]!.GetValue<long>();

    public static async Task VoidAsync(this HttpClient admin, string book, string route, long id, string? date = null) =>
        await (await admin.PostRawAsync($"{Url(book, route)}/{id}/void", date is null ? "{}" : $"{{\"date\":\"{date}\"}}")).AssertCreatedAsync();

    public static async Task TaxRateAsync(this HttpClient admin, string book, string code, string rate, string salesAccount, string purchaseAccount) =>
        await (await admin.PostJsonAsync(Url(book, "tax-rates"), new { code, name = code, rate, salesAccount, purchaseAccount })).AssertCreatedAsync();

    public static string Text(this JsonNode? node) => node!.GetValue<string>();
}
