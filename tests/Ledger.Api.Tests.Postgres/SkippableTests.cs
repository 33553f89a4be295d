// Every [Fact] and [Theory] of the shared sources becomes skippable here, so a machine without PostgreSQL reports
// these tests skipped, with the reason, instead of failing them (.ci/run then fails on any skip).
global using FactAttribute = Xunit.SkippableFactAttribute;
global using TheoryAttribute = Xunit.SkippableTheoryAttribute;
