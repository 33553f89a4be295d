using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>Reading reports in tests: JSON bodies, CSV parsed independently of the API's writer, amounts as minor units.</summary>
public static class ReportClient
{
    public static async Task<JsonNode> GetJsonOkAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: expected 200, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>GETs <paramref name="url"/> as CSV (by Accept header) and parses it into rows keyed by the header.</summary>
    public static async Task<List<Dictionary<string, string>>> GetCsvAsync(this HttpClient client, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/csv");
        var response = await client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} as CSV: {(int)response.StatusCode} {Encoding.UTF8.GetString(bytes)}");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.False(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF, "CSV starts with a byte-order mark.");
        var rows = ParseCsv(Encoding.UTF8.GetString(bytes));
        var header = rows[0];
        return rows.Skip(1).Select(r =>
        {
            Assert.Equal(header.Count, r.Count);
            return header.Zip(r).ToDictionary(p => p.First, p => p.Second);
        }).ToList();
    }

    /// <summary>An RFC 4180 reader: CRLF records, quoted fields with doubled quotes.</summary>
    public static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString()); field.Clear();
                rows.Add(row); row = [];
                i++;
            }
            else field.Append(c);
        }
        Assert.True(field.Length == 0 && row.Count == 0, "CSV does not end with CRLF.");
        return rows;
    }

    /// <summary>A decimal amount string as minor units of a two-digit currency (exact: decimal, never double).</summary>
    public static long Minor(string? amount) =>
        string.IsNullOrEmpty(amount) ? 0 : (long)(decimal.Parse(amount, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * 100m);

    public static long Minor(this JsonNode? node) => Minor(node!.GetValue<string>());

    public static string Money(long minorUnits) =>
        (minorUnits / 100m).ToString("0.00", CultureInfo.InvariantCulture);

    public static async Task<JsonNode> PostEntryOkAsync(this HttpClient client, string bookId, string date, string description,
        params (string Account, string? Debit, string? Credit)[] lines)
    {
        var response = await client.PostEntryAsync(bookId, date, description, lines);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Posting {date} {description}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    public static async Task<JsonNode> CloseYearAsync(this HttpClient client, string bookId, string fiscalYearEnd)
    {
        var response = await client.PostAsJsonAsync($"/v1/books/{bookId}/year-end-close", new { fiscalYearEnd });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Closing {fiscalYearEnd}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    public static async Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, object body) =>
        await client.PutAsync(url, JsonContent.Create(body));
}
