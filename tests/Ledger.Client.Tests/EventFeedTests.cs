using System.Text.Json;
using Ledger.Client.Models;
using Microsoft.Kiota.Abstractions.Serialization;

namespace Ledger.Client.Tests;

/// <summary>
/// The event feed and the audit through the generated client. An event's data is whatever the event type records, so
/// the document can only describe it as an object of any members; described as anything narrower (it once was .NET's
/// JsonNode), the client kept none of it.
/// </summary>
[Trait("Category", "Client")]
public sealed class EventFeedTests(LedgerApiServer server) : IClassFixture<LedgerApiServer>
{
    [Fact]
    public async Task An_events_data_and_a_clean_audit_read_through_the_generated_client()
    {
        var book = await server.Client.V1.Books.PostAsync(new CreateBookRequest { Name = "Events Ltd", Currency = "EUR", Chart = "standard" });
        var books = server.Client.V1.Books[book!.Id];
        var posted = await books.JournalEntries.PostAsync(new PostJournalEntryRequest
        {
            Date = "2026-01-05",
            Description = "Owner's capital",
            Lines =
            [
                new JournalLineRequest { Account = "1010", Debit = new() { String = "1250.00" } },
                new JournalLineRequest { Account = "3000", Credit = new() { String = "1250.00" } },
            ],
        }, c => c.Headers.Add("Idempotency-Key", "capital-1"));

        var feed = await books.Events.GetAsync(c => c.QueryParameters.Types = "journal_entry.*");
        var posting = Assert.Single(feed!.Items!);
        Assert.Equal("journal_entry.posted", posting.Type);
        Assert.NotNull(posting.Data);
        // Written back to JSON by Kiota's own serializer: the members are the client's untyped additional data.
        using var data = JsonDocument.Parse(await KiotaJsonSerializer.SerializeAsStringAsync(posting.Data, serializeOnlyChangedValues: false));
        Assert.Equal(posted!.Number, data.RootElement.GetProperty("number").GetInt64());
        Assert.Equal("Owner's capital", data.RootElement.GetProperty("description").GetString());
        Assert.Equal(2, data.RootElement.GetProperty("lines").GetArrayLength());

        var audit = await books.Audit.Verify.GetAsync();
        Assert.True(audit!.Valid);
        Assert.Null(audit.FirstInvalid);
    }
}
