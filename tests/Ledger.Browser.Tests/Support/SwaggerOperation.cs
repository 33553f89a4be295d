using OpenQA.Selenium;

namespace Ledger.Browser.Tests.Support;

/// <summary>
/// One operation block of Swagger UI: expand it, "Try it out", fill the request, "Execute", and read the live response
/// the page shows. The block is found again by its locator at every step, since React re-renders it.
/// </summary>
public sealed class SwaggerOperation
{
    private readonly SwaggerUiPage _page;
    private readonly By _block;
    private readonly string _name;

    internal SwaggerOperation(SwaggerUiPage page, By block, string name)
    {
        _page = page;
        _block = block;
        _name = name;
    }

    private IWebElement Block => _page.Browser.FindElement(_block);

    /// <summary>Expands the block (if collapsed) and clicks "Try it out", waiting for the Execute button.</summary>
    public void TryItOut()
    {
        if (!(Block.GetDomAttribute("class") ?? "").Split(' ').Contains("is-open"))
            _page.Click(_page.WaitForElement(By.CssSelector(".opblock-summary-control"), Block));
        _page.Click(_page.WaitFor($"'Try it out' in {_name}", () => FindDisplayed("button.try-out__btn")));
        _page.WaitUntil($"'Execute' in {_name}", () => FindDisplayed("button.execute") is not null);
    }

    /// <summary>Replaces the example request body with <paramref name="json"/>, as typed by a person.</summary>
    public void SetBody(string json)
    {
        var body = _page.WaitFor($"the request body of {_name}", () => FindDisplayed("textarea.body-param__text"));
        _page.Click(body);
        body.SendKeys(Keys.Control + "a");
        body.SendKeys(Keys.Delete);
        body.SendKeys(json);
        _page.WaitUntil($"the typed body in {_name}", () => FindDisplayed("textarea.body-param__text")?.GetDomProperty("value") == json);
    }

    /// <summary>Types <paramref name="value"/> into the parameter named <paramref name="name"/> (path or query).</summary>
    public void SetParameter(string name, string value)
    {
        var field = _page.WaitFor($"the parameter {name} of {_name}", () => FindDisplayed($"tr[data-param-name='{name}'] input"));
        _page.Click(field);
        field.Clear();
        field.SendKeys(value);
        _page.WaitUntil($"the typed {name} in {_name}", () => FindDisplayed($"tr[data-param-name='{name}'] input")?.GetDomProperty("value") == value);
    }

    /// <summary>Clicks "Execute" and waits for the live response: status, body and the request URL the page sent.</summary>
    public SwaggerResponse Execute()
    {
        _page.Click(_page.WaitFor($"'Execute' in {_name}", () => FindDisplayed("button.execute")));
        var status = _page.WaitFor($"the response status of {_name}", () =>
        {
            var cell = FindDisplayed(".live-responses-table tr.response .response-col_status");
            var digits = new string((cell?.Text ?? "").TakeWhile(char.IsAsciiDigit).ToArray());
            return digits.Length == 3 ? digits : null;
        });
        var body = _page.WaitFor($"the response body of {_name}", () =>
        {
            var code = FindDisplayed(".live-responses-table tr.response .response-col_description .highlight-code pre");
            var text = code?.GetDomProperty("textContent");
            return string.IsNullOrWhiteSpace(text) ? null : text;
        });
        var requestUrl = _page.WaitFor($"the request URL of {_name}", () => FindDisplayed(".request-url pre")?.GetDomProperty("textContent"));
        _page.ScrollIntoView(Block.FindElement(By.CssSelector(".live-responses-table")));
        return new SwaggerResponse(int.Parse(status), body, requestUrl);
    }

    private IWebElement? FindDisplayed(string css) =>
        Block.FindElements(By.CssSelector(css)).FirstOrDefault(element => element.Displayed);
}

/// <summary>What Swagger UI shows after "Execute": the status, the response body as text, and the request URL.</summary>
public sealed record SwaggerResponse(int Status, string Body, string RequestUrl);
