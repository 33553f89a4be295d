using System.Reflection;
using FluentValidation;
using Ledger.Api.Features.Books;
using Microsoft.AspNetCore.Mvc;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Validates requests once, before the handler runs: every handler parameter whose type has a FluentValidation
/// validator (a JSON body, or an <c>[AsParameters]</c> query record) is validated, and the first invalid one is answered
/// with a 400 problem naming each field by its JSON path. An <c>Idempotency-Key</c> header the handler takes is checked
/// first. Handlers therefore only ever see valid input.
/// </summary>
public static class RequestValidation
{
    /// <summary>Adds the validation filter to every endpoint of the group (endpoints without validated input pay nothing).</summary>
    public static TBuilder ValidateRequests<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory(Create);

    private static EndpointFilterDelegate Create(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var parameters = context.MethodInfo.GetParameters();
        var validated = new List<(int Index, IValidator Validator)>();
        var takesIdempotencyKey = false;
        for (var i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].GetCustomAttribute<FromHeaderAttribute>()?.Name == Idempotency.HeaderName) takesIdempotencyKey = true;
            var type = Nullable.GetUnderlyingType(parameters[i].ParameterType) ?? parameters[i].ParameterType;
            if (context.ApplicationServices.GetService(typeof(IValidator<>).MakeGenericType(type)) is IValidator validator)
                validated.Add((i, validator));
        }
        if (validated.Count == 0 && !takesIdempotencyKey) return next;

        return async invocation =>
        {
            var http = invocation.HttpContext;
            if (takesIdempotencyKey && Idempotency.Problem(http.Request) is { } keyProblem)
                return Problems.Validation(Idempotency.HeaderName, keyProblem);
            foreach (var (index, validator) in validated)
            {
                // A body that may be left out (POST …/reverse) has nothing to check when it is.
                if (invocation.Arguments[index] is not { } argument) continue;
                var validation = new ValidationContext<object>(argument);
                // Amounts are checked against the book's currency: its digits travel to the validators that parse them.
                if (http.Request.RouteValues.TryGetValue("bookId", out var value) && value is string bookId &&
                    await http.RequestServices.GetRequiredService<BookCatalog>().FindAsync(bookId) is { } book)
                    validation.RootContextData[ValidationExtensions.DigitsKey] = book.Digits;
                var result = await validator.ValidateAsync(validation, http.RequestAborted);
                if (!result.IsValid) return Problems.Validation(result.ToFieldErrors());
            }
            return await next(invocation);
        };
    }
}
