using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Ledger.Api.Infrastructure.OpenApi;

/// <summary>
/// Examples of the requests and answers a client meets first, as the walkthrough in the README sends them: Swagger
/// UI fills "try it out" with them and generated clients show them in their documentation.
/// </summary>
public sealed class SchemaExamplesFilter : ISchemaFilter
{
    private static readonly Dictionary<string, string> Examples = new(StringComparer.Ordinal)
    {
        ["CreateBookRequest"] = """{"name":"Acme GmbH","currency":"EUR","chart":"standard"}""",
        ["UpdateBookRequest"] = """{"fiscalYearStartMonth":4}""",
        ["BookResponse"] = """
            {"id":"01937c2e-5b1a-7c3d-9e2f-1a2b3c4d5e6f","name":"Acme GmbH","currency":"EUR","currencyDigits":2,
             "fiscalYearStartMonth":1,"retainedEarningsAccount":"3200","lockDate":null,"createdAt":"2026-01-05T09:30:00.000Z"}
            """,
        ["CreateAccountRequest"] = """{"code":"6100","name":"Office supplies","type":"expense","description":"Paper, toner"}""",
        ["UpdateAccountRequest"] = """{"archived":true}""",
        ["AccountResponse"] = """
            {"code":"1010","name":"Bank","type":"asset","parent":null,"description":null,"archived":false,
             "debitTotal":"1250.00","creditTotal":"0.00","balance":"1250.00","createdAt":"2026-01-05T09:30:00.000Z"}
            """,
        ["PostJournalEntryRequest"] = """
            {"date":"2026-01-05","description":"Owner's capital","reference":"BANK-2026-001",
             "lines":[{"account":"1010","debit":"1250.00"},{"account":"3000","credit":"1250.00"}]}
            """,
        ["PostJournalEntryBatchRequest"] = """
            {"entries":[{"date":"2026-01-05","description":"Owner's capital","lines":[{"account":"1010","debit":"1250.00"},{"account":"3000","credit":"1250.00"}]},
                        {"date":"2026-01-06","description":"Rent","lines":[{"account":"6000","debit":"800.00"},{"account":"1010","credit":"800.00"}]}]}
            """,
        ["ReverseJournalEntryRequest"] = """{"date":"2026-01-31","description":"Posted to the wrong account"}""",
        ["JournalEntryResponse"] = """
            {"id":1,"number":1,"date":"2026-01-05","description":"Owner's capital","reference":"BANK-2026-001",
             "lines":[{"account":"1010","debit":"1250.00","credit":null,"description":null},
                      {"account":"3000","debit":null,"credit":"1250.00","description":null}],
             "createdAt":"2026-01-05T09:31:12.345Z","reversalOf":null,"reversedBy":null,"closingEntry":false}
            """,
        ["TrialBalanceResponse"] = """
            {"asOf":"2026-01-31","currency":"EUR",
             "lines":[{"account":"1010","name":"Bank","type":"asset","debit":"450.00","credit":"0.00"},
                      {"account":"3000","name":"Owner's capital","type":"equity","debit":"0.00","credit":"1250.00"},
                      {"account":"6000","name":"Rent","type":"expense","debit":"800.00","credit":"0.00"}],
             "totals":{"debit":"1250.00","credit":"1250.00"}}
            """,
        ["SetLockDateRequest"] = """{"date":"2025-12-31"}""",
        ["YearEndCloseRequest"] = """{"fiscalYearEnd":"2025-12-31"}""",
        ["CreateTaxRateRequest"] = """{"code":"VAT19","name":"VAT 19 %","rate":"19","salesAccount":"2100","purchaseAccount":"1300"}""",
        ["CreateApiKeyRequest"] = """{"name":"Bank import script","bookId":"01937c2e-5b1a-7c3d-9e2f-1a2b3c4d5e6f","scopes":["read","write"]}""",
        ["HttpValidationProblemDetails"] = """
            {"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The request is not valid.","status":400,
             "detail":"See errors: each key is the JSON path of a field that was rejected.",
             "errors":{"lines":["Debits (1250.00) must equal credits (1200.00)."]}}
            """,
    };

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is OpenApiSchema concrete && Examples.TryGetValue(context.Type.Name, out var example))
            concrete.Example = JsonNode.Parse(example);
    }
}
