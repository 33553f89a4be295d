using OpenQA.Selenium.Chrome;

namespace Ledger.Browser.Tests.Support;

/// <summary>
/// Debian's Chromium and chromedriver (<c>apt-get install chromium chromium-driver</c>), started headless. Both paths
/// are given explicitly so Selenium never runs Selenium Manager, which would try to download a browser or driver:
/// this machine and CI reach only package registries.
/// </summary>
public static class DebianChromium
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverDirectory = "/usr/bin";
    public const string DriverFileName = "chromedriver";

    /// <summary>Why a browser test cannot run here, or null when both Debian packages are installed.</summary>
    public static string? MissingReason
    {
        get
        {
            var missing = new[] { BrowserPath, Path.Combine(DriverDirectory, DriverFileName) }.Where(path => !File.Exists(path)).ToArray();
            return missing.Length == 0
                ? null
                : $"{string.Join(" and ", missing)} not found: install Debian's browser and driver with " +
                  "`apt-get install -y chromium chromium-driver` (as root; .ci/run does this).";
        }
    }

    public static ChromeDriver Start()
    {
        var service = ChromeDriverService.CreateDefaultService(DriverDirectory, DriverFileName);
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;

        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments(
            "--headless=new",
            // CI runs as root, where Chromium refuses to start inside its sandbox.
            "--no-sandbox",
            // Containers often give /dev/shm only 64 MB, too little for a renderer.
            "--disable-dev-shm-usage",
            // Wide enough for Swagger UI's two-column parameter and response tables, tall enough to show a whole response.
            "--window-size=1400,1600",
            // The page only talks to the API on loopback; a proxy from the environment must not get in between.
            "--no-proxy-server");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
