using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Fillbook.Exporter")]
[assembly: AssemblyDescription("Streams a strategy's orders, fills and bars to Fillbook without losing an event")]
[assembly: AssemblyVersion("1.0.0.0")]
[assembly: InternalsVisibleTo("Fillbook.Exporter.Tests")]
