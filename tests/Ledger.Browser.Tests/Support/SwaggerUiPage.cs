using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace Ledger.Browser.Tests.Support;

/// <summary>
/// Swagger UI as a person uses it: the Authorize dialog and operation blocks with "Try it out" and "Execute". Every
/// step waits explicitly (bounded) for what the page shows next; nothing sleeps for a fixed time.
/// </summary>
public sealed class SwaggerUiPage
{
    /// <summary>Bound for each wait: generous, because CI builds and runs other test assemblies on 2 cores meanwhile.</summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly IWebDriver _browser;

    private SwaggerUiPage(IWebDriver browser) => _browser = browser;

    /// <summary>Opens <c>/swagger</c> and waits until the OpenAPI document is loaded and its operations are listed.</summary>
    public static SwaggerUiPage Open(IWebDriver browser, Uri apiBaseAddress)
    {
        browser.Navigate().GoToUrl(new Uri(apiBaseAddress, "/swagger"));
        var page = new SwaggerUiPage(browser);
        page.WaitUntil("the list of operations", () => browser.FindElements(By.CssSelector(".opblock")).Count > 0);
        return page;
    }

    /// <summary>
    /// Clicks "Authorize", types <paramref name="key"/> as the bearer value, authorizes and closes the dialog; waits
    /// until the page shows itself authorized (the dialog offers "Logout", the button's lock is closed).
    /// </summary>
    public void Authorize(string key)
    {
        Click(WaitForElement(By.CssSelector(".scheme-container button.authorize")));
        var dialog = By.CssSelector(".modal-ux");
        var keyField = WaitForElement(By.CssSelector(".modal-ux .auth-container input"));
        keyField.SendKeys(key);
        Click(WaitForElement(By.CssSelector(".modal-ux .auth-btn-wrapper button.authorize")));
        // Once the key is accepted, the dialog swaps its Authorize button for Logout.
        WaitForElement(By.XPath("//div[contains(@class, 'modal-ux')]//div[contains(@class, 'auth-btn-wrapper')]//button[normalize-space(.)='Logout']"));
        Click(WaitForElement(By.CssSelector(".modal-ux button.btn-done")));
        WaitUntil("the Authorize dialog to close", () => _browser.FindElements(dialog).Count == 0);
        WaitForElement(By.CssSelector(".scheme-container button.authorize.locked"));
    }

    /// <summary>
    /// The operation block for <paramref name="method"/> and <paramref name="path"/>, found by the method and path
    /// the page shows, not by an element id: Swagger UI builds ids from operationIds and tags, which may change.
    /// </summary>
    public SwaggerOperation Operation(string method, string path)
    {
        var block = By.XPath(
            "//div[contains(concat(' ', normalize-space(@class), ' '), ' opblock ')]" +
            $"[.//*[contains(concat(' ', normalize-space(@class), ' '), ' opblock-summary-method ')][normalize-space(.)={XPathLiteral(method.ToUpperInvariant())}]]" +
            // Swagger UI may break long paths with zero-width spaces; drop them before comparing.
            $"[.//*[contains(concat(' ', normalize-space(@class), ' '), ' opblock-summary-path ')][translate(normalize-space(.), '\u200B', '')={XPathLiteral(path)}]]");
        WaitUntil($"the operation {method} {path}", () => _browser.FindElements(block).Count > 0);
        var count = _browser.FindElements(block).Count;
        if (count != 1) throw new InvalidOperationException($"Expected one operation block {method} {path}, found {count}.");
        return new SwaggerOperation(this, block, $"{method} {path}");
    }

    internal IWebDriver Browser => _browser;

    internal IWebElement WaitForElement(By locator, ISearchContext? within = null) =>
        WaitFor($"an element {locator}", () =>
        {
            var element = (within ?? _browser).FindElements(locator).FirstOrDefault();
            return element is { Displayed: true, Enabled: true } ? element : null;
        });

    /// <summary>Waits until <paramref name="find"/> answers something, and answers it.</summary>
    internal T WaitFor<T>(string what, Func<T?> find) where T : class =>
        NewWait(what).Until(_ => find())!; // Until answers only a non-null result; it throws when the time is up

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    internal void WaitUntil(string what, Func<bool> condition) => NewWait(what).Until(_ => condition());

    private WebDriverWait NewWait(string what)
    {
        var wait = new WebDriverWait(_browser, StepTimeout) { Message = $"Swagger UI did not show {what} within {StepTimeout.TotalSeconds} s." };
        // React re-renders replace elements between a find and a use; look again rather than fail.
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        return wait;
    }

    /// <summary>Scrolls the element to the middle of the window first, so the click lands on it and not on a neighbour.</summary>
    internal void Click(IWebElement element)
    {
        ScrollIntoView(element);
        element.Click();
    }

    internal void ScrollIntoView(IWebElement element) =>
        ((IJavaScriptExecutor)_browser).ExecuteScript("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});", element);

    private static string XPathLiteral(string text) =>
        text.Contains('\'') ? throw new ArgumentException("Quotes are not supported in XPath literals here.", nameof(text)) : $"'{text}'";
}
