namespace Ledger.Api.Infrastructure;

/// <summary>
/// Refuses control characters (<see cref="ControlCharacters"/>) outside JSON bodies as the bodies refuse them
/// (<see cref="TextWithoutControlCharactersConverter"/>): in route values, query names and values, and header values,
/// with a 400 naming the parameter or header. The same answer on both engines: PostgreSQL could not even look up a
/// value holding NUL, while SQLite would answer 404 or an empty list. Runs right after routing (so route values are
/// known) and before authentication: it reveals nothing but the rule, which is public. Kestrel itself refuses NUL, CR
/// and LF in a header before any of this runs (see the README, Errors). A name that holds a control character is
/// reported under "query" or "headers", since it cannot name itself.
/// </summary>
public static class RequestTexts
{
    public static IApplicationBuilder UseRequestTextChecks(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            Dictionary<string, string[]>? errors = null;
            void Refuse(string field, string problem) => (errors ??= [])[field] = [problem];

            foreach (var (name, value) in context.Request.RouteValues)
                if (value is string text && ControlCharacters.Problem(text) is { } problem)
                    Refuse(name, problem);
            if (context.Request.QueryString.HasValue)
                foreach (var (name, values) in context.Request.Query)
                {
                    if (ControlCharacters.Problem(name) is { } badName) Refuse("query", "A parameter's name " + badName);
                    else
                        foreach (var value in values)
                            if (ControlCharacters.Problem(value) is { } problem) Refuse(name, problem);
                }
            foreach (var (name, values) in context.Request.Headers)
            {
                // Kestrel lets control characters through in header names as well as values (not NUL, CR or LF).
                if (ControlCharacters.Problem(name) is { } badName) Refuse("headers", "A header's name " + badName);
                else
                    foreach (var value in values)
                        if (ControlCharacters.Problem(value) is { } problem) Refuse(name, problem);
            }

            if (errors is not null) throw new ValidationFailedException(errors);
            return next(context);
        });
}
