using OpenQA.Selenium;

namespace Ledger.Browser.Tests.Support;

/// <summary>
/// Where browser tests leave screenshots (and, on failure, the page's HTML): the folder named by
/// <c>LEDGER_TEST_ARTIFACTS</c>, else <c>TestResults/</c> next to the test assembly (ignored by git).
/// </summary>
public static class TestArtifacts
{
    public const string DirectoryVariable = "LEDGER_TEST_ARTIFACTS";

    public static string Directory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(DirectoryVariable);
            var directory = string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(AppContext.BaseDirectory, "TestResults")
                : Path.GetFullPath(configured);
            System.IO.Directory.CreateDirectory(directory);
            return directory;
        }
    }

    /// <summary>Saves what the browser shows now as a PNG and answers its full path.</summary>
    public static string SaveScreenshot(IWebDriver browser, string fileName)
    {
        var path = Path.Combine(Directory, fileName);
        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(path);
        return path;
    }

    /// <summary>Saves the page's current HTML (after Swagger UI rendered it) and answers its full path.</summary>
    public static string SavePageSource(IWebDriver browser, string fileName)
    {
        var path = Path.Combine(Directory, fileName);
        File.WriteAllText(path, browser.PageSource);
        return path;
    }
}
