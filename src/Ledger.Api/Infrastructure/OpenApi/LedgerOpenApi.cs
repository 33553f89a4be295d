using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;

namespace Ledger.Api.Infrastructure.OpenApi;

/// <summary>
/// The OpenAPI document clients are generated from (committed as openapi/ledger.json): every operation with an
/// operationId, summary and description (set on the endpoints), its error answers as problems, the API-key scheme on
/// every /v1 operation, examples, amounts as a string or a number, CSV answers as text.
/// </summary>
public static class LedgerOpenApi
{
    public const string SecuritySchemeName = "bearer";

    /// <summary>The tags that group operations, with what each group is for.</summary>
    private static readonly (string Name, string Description)[] Tags =
    [
        ("Books", "Sets of books, each in one currency, with its settings."),
        ("Accounts", "The chart of accounts of a book."),
        ("Journal", "Balanced journal entries: posted singly or in batches, idempotently; never edited, reversed instead."),
        ("Reports", "Trial balance, balance sheet, income statement and ledgers, as of any date and as known at any instant."),
        ("Periods", "Closing periods: the lock date and the year-end close."),
        ("Customers", "Who owes the book: each line on the receivables control account names its customer."),
        ("Vendors", "Whom the book owes: each line on the payables control account names its vendor."),
        ("Invoices", "Sales documents: drafts, then issued (numbered, posted) and paid through allocations; voided by reversal."),
        ("Credit notes", "Corrections of invoices: the mirror image of an invoice, allocated against it."),
        ("Bills", "Purchase documents from vendors, with the vendor's own reference."),
        ("Vendor credits", "Corrections of bills: the mirror image of a bill."),
        ("Payments", "Money in from customers and out to vendors through a bank or cash account."),
        ("Allocations", "Matches of a document with the payment or credit that settles it; made and undone, never posted."),
        ("Tax rates", "Sales and purchase tax rates of a book, with the accounts the tax posts to; fixed once a document uses them."),
        ("Bank accounts", "The book's bank and cash accounts, each one asset account of the chart."),
        ("Bank statements", "Statement files (CSV, OFX, CAMT.053, MT940) imported without duplicates, and their lines."),
        ("Bank matching", "Matching statement lines to entries, invoices, bills or accounts, by hand, by suggestion and by rule."),
        ("Reconciliation", "The bank's balance explained by the books, and closed reconciliation periods."),
        ("Events", "The feed of everything that changed a book, in order, resumable from any sequence."),
        ("Audit", "The hash-chained event log recomputed and checked against the books, and exported for offline verification."),
        ("Webhooks", "The book's events pushed to a URL in sequence order, signed, retried with backoff, paused after failing for a day."),
        ("API keys", "Keys scoped to one book, read or read-write; admin keys only."),
        ("Health", "Liveness of the API and its database; no key needed."),
    ];

    public static IServiceCollection AddLedgerOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Ledger",
                Version = "v1",
                Description = "Double-entry accounting API: books, chart of accounts, balanced journal entries, reports. " +
                              "Amounts are exact decimal strings in the book's currency (\"1250.00\"); every error is an " +
                              "RFC 9457 problem (application/problem+json), and a 400 names each rejected field by its JSON " +
                              "path in `errors`. Every /v1 operation needs an API key: `Authorization: Bearer {key}`.",
            });
            // Relative: the API is described wherever it is served (Swagger UI calls the server it was loaded from).
            options.AddServer(new OpenApiServer { Url = "/", Description = "This Ledger server" });
            options.MapType<AmountInput>(() => new OpenApiSchema
            {
                // Both are accepted and parsed exactly (a number is read from its JSON text, never as binary floating
                // point); answers always carry strings. "decimal" lets generators give the number form an exact type
                // (Kiota: decimal, not double).
                OneOf =
                [
                    // A minus sign only reads where an amount can be negative (a statement balance); elsewhere the
                    // answer is a 400 "must be greater than zero", not a pattern failure. Never a plus sign.
                    new OpenApiSchema { Type = JsonSchemaType.String, Pattern = @"^-?[0-9]+(\.[0-9]+)?$" },
                    new OpenApiSchema { Type = JsonSchemaType.Number, Format = "decimal" },
                ],
                Description = "Exact decimal amount: a string (\"1250.00\", preferred) or a JSON number, with no more " +
                              "decimals than the book currency has, no plus sign, and a minus sign only where the amount can be " +
                              "negative (a statement balance). Leave the field out rather than sending null.",
                Example = JsonValue.Create("1250.00"),
            });
            // A bank rule condition's value: one text or amount, or [low, high] for "between".
            OpenApiSchema RuleValue() => new()
            {
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.String },
                    new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String }, MinItems = 2, MaxItems = 2 },
                ],
                Description = "A text (contains, equals, startsWith) or an amount as a decimal string (equals); for between, [low, high].",
                Example = JsonValue.Create("fee"),
            };
            options.MapType<System.Text.Json.JsonElement>(RuleValue);
            options.MapType<System.Text.Json.JsonElement?>(RuleValue);
            // Reflection would describe JsonObject's .NET members (options, parent, root) and forbid every other member,
            // so no event's data would fit; it stands for an object with members of any name and value. The empty
            // additionalProperties is spelled out: some generators (openapi-typescript) read a bare object as empty.
            options.MapType<JsonObject>(() => new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema() });
            options.AddSecurityDefinition(SecuritySchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key, sent as `Authorization: Bearer {key}`. Admin keys reach every book; book keys " +
                              "one book, with the read or read and write scope.",
            });
            options.OperationFilter<ProblemResponsesFilter>();
            options.OperationFilter<ParameterDescriptionsFilter>();
            options.OperationFilter<StatementFileBodyFilter>();
            options.SchemaFilter<SchemaExamplesFilter>();
            options.SchemaFilter<OptionalAmountsFilter>();
            options.SchemaFilter<MemberNullabilityFilter>();
            options.DocumentFilter<TagDescriptionsFilter>();
            options.CustomSchemaIds(SchemaId);
        });
        return services;
    }

    /// <summary>A schema's name: the type's, and for a generic one its arguments' first ("PartyResponsePage" for Page&lt;PartyResponse&gt;).</summary>
    internal static string SchemaId(Type type) => type.IsGenericType
        ? string.Concat(type.GetGenericArguments().Select(SchemaId)) + type.Name[..type.Name.IndexOf('`')]
        : type.Name;

    public static WebApplication UseLedgerOpenApi(this WebApplication app)
    {
        app.UseSwagger(options => options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1);
        app.UseSwaggerUI(options => options.SwaggerEndpoint("/swagger/v1/swagger.json", "Ledger v1"));
        return app;
    }

    /// <summary>A statement import's body is the bank's file as it is, in whatever encoding the bank wrote: bytes, not text.</summary>
    private sealed class StatementFileBodyFilter : Swashbuckle.AspNetCore.SwaggerGen.IOperationFilter
    {
        public void Apply(OpenApiOperation operation, Swashbuckle.AspNetCore.SwaggerGen.OperationFilterContext context)
        {
            if (operation.OperationId != "importStatement") return;
            var file = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The statement file (CSV, OFX, CAMT.053 or MT940) as the bank delivered it, at most 20 MB; any content type.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/octet-stream"] = file, ["application/xml"] = file, ["text/csv"] = file, ["text/plain"] = file,
                },
            };
        }
    }

    private sealed class TagDescriptionsFilter : Swashbuckle.AspNetCore.SwaggerGen.IDocumentFilter
    {
        public void Apply(OpenApiDocument document, Swashbuckle.AspNetCore.SwaggerGen.DocumentFilterContext context) =>
            document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
    }

    /// <summary>
    /// Swashbuckle does not read C# nullability here: a property whose type has a schema of its own is published as a
    /// bare <c>$ref</c>, which admits no null, while answers do carry null where the C# property is nullable (an
    /// unmatched statement line's match, a valid audit's firstInvalid, an event without an actor); such a property
    /// becomes one of the schema or null. A property left out when null (<c>JsonIgnoreCondition.WhenWritingNull</c>) is
    /// never null in JSON and keeps its bare reference. And a <see cref="JsonObject"/> property, which Swashbuckle
    /// makes nullable as it does every class, is nullable only when its C# type says so (an event's data never is).
    /// </summary>
    private sealed class MemberNullabilityFilter : Swashbuckle.AspNetCore.SwaggerGen.ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, Swashbuckle.AspNetCore.SwaggerGen.SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema { Properties.Count: > 0 } concrete || context.Type is null) return;
            var nullability = new NullabilityInfoContext(); // not thread-safe, and documents may be generated concurrently
            foreach (var member in context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var name = member.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(member.Name);
                if (!concrete.Properties.TryGetValue(name, out var property)) continue;
                if (member.GetCustomAttribute<JsonIgnoreAttribute>()?.Condition == JsonIgnoreCondition.WhenWritingNull) continue;
                var mayBeNull = Nullable.GetUnderlyingType(member.PropertyType) is not null
                                || nullability.Create(member).ReadState == NullabilityState.Nullable;
                if (property is OpenApiSchemaReference reference && mayBeNull)
                    concrete.Properties[name] = new OpenApiSchema { OneOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Null }] };
                else if (property is OpenApiSchema { Type: { } type } inline && member.PropertyType == typeof(JsonObject) && !mayBeNull)
                    inline.Type = type & ~JsonSchemaType.Null;
            }
        }
    }

    /// <summary>
    /// An optional amount (<c>AmountInput?</c>) is marked nullable by adding "null" to the type of its one-of schema,
    /// which would then only allow null. Optional amounts are left out, not sent as null: the one-of stands alone.
    /// </summary>
    private sealed class OptionalAmountsFilter : Swashbuckle.AspNetCore.SwaggerGen.ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, Swashbuckle.AspNetCore.SwaggerGen.SchemaFilterContext context)
        {
            if (schema.Properties is null) return;
            foreach (var property in schema.Properties.Values.OfType<OpenApiSchema>())
                if (property.OneOf is { Count: > 0 } && property.Type == JsonSchemaType.Null) property.Type = null;
        }
    }
}
