using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Ledger.Api.Infrastructure;

/// <summary>A request that cannot be carried out, with the RFC 9457 problem to answer it with.</summary>
public class ProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    /// <summary>Members added to the problem beside detail (e.g. a reconciliation's difference), so clients need not parse prose.</summary>
    public IDictionary<string, object?> Extensions { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    public ProblemException With(string member, object? value)
    {
        Extensions[member] = value;
        return this;
    }

    public ProblemHttpResult ToResult() => TypedResults.Problem(detail: Message, statusCode: Status, title: Title);
}

public sealed class ConflictException(string detail) : ProblemException(StatusCodes.Status409Conflict, "Conflict", detail);

/// <summary>Field errors keyed by JSON path (<c>lines[2].account</c>), answered as a 400 validation problem.</summary>
public sealed class ValidationFailedException(IDictionary<string, string[]> errors)
    : Exception("The request is not valid.")
{
    public IDictionary<string, string[]> Errors { get; } = errors;

    public ValidationFailedException(string path, string message) : this(new Dictionary<string, string[]> { [path] = [message] }) { }

    public ValidationProblem ToResult() => Problems.Validation(Errors);
}

public static class Problems
{
    private const string ValidationTitle = "The request is not valid.";
    private const string ValidationDetail = "See errors: each key is the JSON path of a field that was rejected.";

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: ValidationTitle, detail: ValidationDetail);

    /// <summary>The same 400 as <see cref="Validation(IDictionary{string, string[]})"/>, for the exception handler to write.</summary>
    public static HttpValidationProblemDetails ValidationDetails(IDictionary<string, string[]> errors) =>
        new(errors) { Status = StatusCodes.Status400BadRequest, Title = ValidationTitle, Detail = ValidationDetail };

    public static ValidationProblem Validation(string path, string message) =>
        Validation(new Dictionary<string, string[]> { [path] = [message] });

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    /// <summary>Turns a JSON reader path such as <c>$.lines[0].debit</c> into the API's field path <c>lines[0].debit</c>.</summary>
    public static string FieldPath(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$") return "body";
        var path = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
        return path.Length == 0 ? "body" : path;
    }
}

/// <summary>
/// Answers every failure as problem+json: malformed or unknown JSON as 400 with the field path, known problems
/// with their status, anything unexpected as a 500 that reveals nothing of the server.
/// </summary>
public sealed partial class LedgerExceptionHandler(IProblemDetailsService problemDetails, ILogger<LedgerExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => JsonProblem(json),
            JsonException json => JsonProblem(json),
            BadHttpRequestException bad when BindingProblem(bad) is { } binding => binding,
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Bad request",
                Detail = bad.Message,
            },
            ValidationFailedException v => Problems.ValidationDetails(v.Errors),
            ProblemException p => WithExtensions(new ProblemDetails { Status = p.Status, Title = p.Title, Detail = p.Message }, p.Extensions),
            WriteOutcomeUnknownException => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Outcome unknown",
                Detail = "The connection to the database was lost while this write was committing: it may or may not have been recorded. " +
                         "Retry with the same Idempotency-Key to find out safely; without one, look for it before posting again.",
            },
            // A NUL character outside a JSON body reaches PostgreSQL, whose text refuses it. Route and query values are
            // checked before (RequestTexts); this keeps any other way in (a header) a 400 rather than a 500.
            System.Data.Common.DbException { SqlState: "22021" } => new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is not valid.",
                Detail = "Texts must not contain the NUL character (U+0000).",
            },
            _ => null,
        };

        if (problem is null)
        {
            logger.LogError(exception, "Unhandled failure on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "Internal server error",
                Detail = "The server failed to process the request; nothing was written. The failure has been logged.",
            };
        }

        httpContext.Response.StatusCode = problem.Status ?? 500;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails WithExtensions(ProblemDetails problem, IDictionary<string, object?> extensions)
    {
        foreach (var (member, value) in extensions) problem.Extensions[member] = value;
        return problem;
    }

    private static HttpValidationProblemDetails JsonProblem(JsonException json)
    {
        var path = Problems.FieldPath(json.Path);
        var message = json.Message;
        // Keep the reader's explanation but not .NET type names.
        if (json is ControlCharacterException)
            return Problems.ValidationDetails(new Dictionary<string, string[]> { [path] = [message] });
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
            message = "is not a known field; remove it.";
        else if (MissingRequired().Match(message) is { Success: true } missing)
            return Problems.ValidationDetails(missing.Groups["names"].Value.Split(", ")
                .ToDictionary(name => name.Trim('\''), _ => new[] { "is required." }));
        else if (json.InnerException is null && message.StartsWith("An amount", StringComparison.Ordinal))
            message = json.Message;
        // The reader reports text it cannot decode (bytes that are not UTF-8, an escaped half of a surrogate pair) as
        // a failed conversion too; the type was right, the text was not.
        else if (message.Contains("could not be converted", StringComparison.Ordinal)
                 && json.InnerException is InvalidOperationException { Message: var inner } && (inner.Contains("UTF-8", StringComparison.Ordinal) || inner.Contains("UTF-16", StringComparison.Ordinal)))
            message = "is not valid Unicode text: it has bytes that are not UTF-8 or an unpaired surrogate such as \\ud800.";
        else if (message.Contains("could not be converted", StringComparison.Ordinal))
            message = "has the wrong JSON type.";
        // "Duplicate property 'date' encountered during deserialization of type 'Ledger.Api…Request'": the path names it.
        else if (message.StartsWith("Duplicate property", StringComparison.Ordinal))
            message = "appears more than once in its object; send it once.";
        else
            message = "is not valid JSON: " + TrimTypeNames(message);
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [path] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request body is not valid JSON for this endpoint.",
        };
    }

    /// <summary>
    /// Query, route and body binding failures named with .NET types ("Failed to bind parameter \"Nullable&lt;int&gt; limit\"")
    /// answered as field errors like any other validation failure.
    /// </summary>
    private static HttpValidationProblemDetails? BindingProblem(BadHttpRequestException bad)
    {
        if (bad.StatusCode != StatusCodes.Status400BadRequest) return null;
        string field, message;
        if (FailedToBind().Match(bad.Message) is { Success: true } failed)
        {
            field = JsonNamingPolicy.CamelCase.ConvertName(failed.Groups["name"].Value); // the property, for [AsParameters]
            message = failed.Groups["type"].Value.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('>') switch
            {
                "int" => "must be a whole number (at most 2147483647).",
                "long" => "must be a whole number (at most 9223372036854775807).",
                _ => "is not a valid value.",
            };
        }
        else if (bad.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal)
                 || (bad.Message.StartsWith("Required parameter", StringComparison.Ordinal) && bad.Message.Contains("from body", StringComparison.Ordinal)))
        {
            (field, message) = ("body", "is required: send a JSON object.");
        }
        else
        {
            return null;
        }
        return Problems.ValidationDetails(new Dictionary<string, string[]> { [field] = [message] });
    }

    [GeneratedRegex("""^Failed to bind parameter "(?<type>.+) (?<name>[^ "]+)" from ".*"\.$""", RegexOptions.Singleline)]
    private static partial Regex FailedToBind();

    [GeneratedRegex("was missing required properties,? including(?: the following)?: (?<names>.+?)\\.?$", RegexOptions.Singleline)]
    private static partial Regex MissingRequired();

    private static string TrimTypeNames(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
