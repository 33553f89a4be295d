using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.ApiKeys;
using Ledger.Api.Features.Audit;
using Ledger.Api.Features.Banking;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Health;
using Ledger.Api.Features.Journal;
using Ledger.Api.Features.Parties;
using Ledger.Api.Features.Documents;
using Ledger.Api.Features.Payments;
using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.PartyReports;
using Ledger.Api.Features.Periods;
using Ledger.Api.Features.Reports;
using Ledger.Api.Features.TaxRates;
using Ledger.Api.Infrastructure;

// The content root is the application's own folder, wherever it is started from, so its appsettings.json (and the
// logging levels there, which keep request URLs out of the log) always apply. The database path stays relative to the
// working directory (see the README, Configuration).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddLedger(builder.Configuration);

var app = builder.Build();
app.UseLedgerPipeline();

app.MapHealth();
app.MapApiKeys();
app.MapBooks();
app.MapAccounts();
app.MapJournal();
app.MapReports();
app.MapPeriods();
app.MapParties();
app.MapDocuments();
app.MapPayments();
app.MapAllocations();
app.MapOpenItems();
app.MapTaxRates();
app.MapPartyReports();
app.MapBankAccounts();
app.MapCsvProfiles();
app.MapStatementImport();
app.MapStatementLines();
app.MapBankRules();
app.MapReconciliation();
app.MapCashPosition();
app.MapAudit();
Ledger.Api.Features.Webhooks.WebhooksEndpoints.MapWebhooks(app);

await app.InitializeLedgerAsync();
await app.RunAsync();

public partial class Program;
