using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using NodaTime;
using NodaTime.Text;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// On the real clock, with posts committing while reports are pulled as known at "just now": each of those reports must
/// come back the same when pulled again after the load, though groups stamped moments before were still committing.
/// </summary>
[Trait("Category", "Slow")]
public sealed class KnownAtUnderLoadTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Reports_known_at_the_present_are_reproducible_after_concurrent_posts()
    {
        var book = await App.CreateBookAsync();
        using var posting = new CancellationTokenSource();
        var posters = Enumerable.Range(0, 8).Select(async poster =>
        {
            var client = App.Admin;
            for (var i = 0; !posting.IsCancellationRequested; i++)
                await client.PostEntryOkAsync(book, "2026-03-01", $"load {poster}/{i}", ("1010", "1.00", null), ("4000", null, "1.00"));
        }).ToList();

        var pulled = new List<(string Url, JsonNode Report)>();
        for (var i = 0; i < 60; i++)
        {
            var knownAt = InstantPattern.ExtendedIso.Format(SystemClock.Instance.GetCurrentInstant());
            var url = $"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31&knownAt={knownAt}";
            pulled.Add((url, await App.Admin.GetJsonOkAsync(url)));
        }
        await posting.CancelAsync();
        await Task.WhenAll(posters);

        var changed = new List<string>();
        foreach (var (url, report) in pulled)
        {
            var again = await App.Admin.GetJsonOkAsync(url);
            if (!JsonNode.DeepEquals(report, again))
                changed.Add($"{url}: {report["totals"]!["debit"]} then {again["totals"]!["debit"]}");
        }
        Assert.True(changed.Count == 0, string.Join("\n", changed));
        Assert.NotEqual(pulled[0].Report["totals"]!.ToJsonString(), pulled[^1].Report["totals"]!.ToJsonString());
    }
}
