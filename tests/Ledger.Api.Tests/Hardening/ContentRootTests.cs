using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Hardening;

/// <summary>
/// The built API started from a folder of no importance reads its own appsettings.json: its content root is its own
/// folder, and the log levels there apply (Information for the app, Warning for ASP.NET Core, so no request URL is
/// logged).
/// </summary>
public sealed class ContentRootTests
{
    [Fact]
    public async Task Started_from_another_folder_the_API_uses_its_own_appsettings_and_logs_no_request_URLs()
    {
        var elsewhere = Directory.CreateTempSubdirectory("ledger-cwd-");
        var database = TestDatabase.Create();
        try
        {
            // Log levels are left to appsettings.json: nothing in the environment sets them.
            await using var api = await ApiProcess.StartAsync(database, workingDirectory: elsewhere.FullName, quietLogging: false);
            using var client = api.Client();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/books?secret-looking-query=1")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/no-such-route")).StatusCode);

            // Information is logged (the host's start-up lines), so a request line would have been too if logged at all.
            var contentRoot = await WaitForLineAsync(api, "Content root path:");
            var folder = contentRoot[(contentRoot.IndexOf(':') + 1)..].Trim();
            Assert.True(File.Exists(Path.Combine(folder, "appsettings.json")), $"The content root {folder} has no appsettings.json.");
            Assert.True(File.Exists(Path.Combine(folder, "Ledger.Api.dll")), $"The content root {folder} is not the application's folder.");
            Assert.NotEqual(Path.TrimEndingDirectorySeparator(elsewhere.FullName), Path.TrimEndingDirectorySeparator(folder));

            await Task.Delay(500); // anything the requests above logged has arrived by now
            var output = api.Output();
            Assert.DoesNotContain(output, line => line.Contains("secret-looking-query", StringComparison.Ordinal)
                || line.Contains("/v1/books", StringComparison.Ordinal) || line.Contains("/no-such-route", StringComparison.Ordinal)
                || line.Contains("Request starting", StringComparison.Ordinal));
        }
        finally
        {
            TestDatabase.Delete(database);
            elsewhere.Delete(recursive: true);
        }
    }

    private static async Task<string> WaitForLineAsync(ApiProcess api, string text)
    {
        for (var i = 0; i < 100; i++)
        {
            // The console logger writes the category line first and the message on the next.
            if (api.Output().FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line) return line;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"The API never logged '{text}'. Its output:\n{string.Join('\n', api.Output())}");
    }
}
