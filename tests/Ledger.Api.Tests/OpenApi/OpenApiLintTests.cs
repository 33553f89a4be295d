using Ledger.Api.Tests.Support;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Ledger.Api.Tests.OpenApi;

/// <summary>
/// The committed document passes Redocly's recommended ruleset (openapi/redocly.yaml) with no error, as client
/// generators and API tools read it. The linter is the @redocly/cli version pinned in openapi/package-lock.json,
/// installed with `npm ci` on first use (node and npm must be on the machine; .ci/run checks that they are).
/// </summary>
public sealed class OpenApiLintTests(ITestOutputHelper output)
{
    private static readonly SemaphoreSlim Install = new(1, 1);

    [Fact]
    public async Task Redocly_recommended_rules_report_no_error_on_the_committed_document()
    {
        var report = await LintAsync("ledger.json");
        var totals = report["totals"]!;
        output.WriteLine($"redocly {report["version"]}: {totals["errors"]} errors, {totals["warnings"]} warnings");
        foreach (var problem in report["problems"]!.AsArray())
            output.WriteLine($"  {problem!["severity"]} {problem["ruleId"]}: {problem["message"]} at {problem["location"]![0]!["pointer"]}");
        Assert.Equal(0, totals["errors"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_linter_does_fail_a_document_that_breaks_a_rule()
    {
        // A copy of the document with one operation's summary and one path parameter removed: both are errors in the
        // recommended ruleset, so a linter that reported nothing here would be checking nothing.
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(OpenApiFolder(), "ledger.json")))!;
        var reverse = document["paths"]!["/v1/books/{bookId}/journal-entries/{id}/reverse"]!["post"]!.AsObject();
        reverse.Remove("summary");
        reverse.Remove("parameters");
        var copy = $"lint-probe-{Guid.NewGuid():N}.json";
        await File.WriteAllTextAsync(Path.Combine(OpenApiFolder(), copy), document.ToJsonString());
        try
        {
            var report = await LintAsync(copy);
            var rules = report["problems"]!.AsArray().Where(p => (string?)p!["severity"] == "error").Select(p => (string?)p!["ruleId"]).ToList();
            Assert.Contains("operation-summary", rules);
            Assert.Contains("path-parameters-defined", rules);
        }
        finally
        {
            File.Delete(Path.Combine(OpenApiFolder(), copy));
        }
    }

    private static async Task<JsonNode> LintAsync(string file)
    {
        var folder = OpenApiFolder();
        var redocly = Path.Combine(folder, "node_modules", ".bin", "redocly");
        await Install.WaitAsync();
        try
        {
            if (!File.Exists(redocly))
            {
                var (code, stdout, stderr) = await RunAsync(folder, "npm", "ci", "--no-audit", "--no-fund");
                Assert.True(code == 0, $"npm ci in openapi/ failed ({code}):\n{stdout}\n{stderr}");
            }
        }
        finally
        {
            Install.Release();
        }
        // Exit code 1 means "problems found"; the JSON report says which. Anything else is the linter failing to run.
        var (exit, json, errors) = await RunAsync(folder, redocly, "lint", file, "--config", "redocly.yaml", "--format", "json");
        Assert.True(exit is 0 or 1, $"redocly lint did not run ({exit}):\n{errors}");
        return JsonNode.Parse(json) ?? throw new InvalidOperationException("redocly printed no report.");
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string directory, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string OpenApiFolder() => Path.Combine(RepositoryFiles.Root, "openapi");
}
