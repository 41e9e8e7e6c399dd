using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace Fillbook.Exporter.Tests
{
    [TestFixture]
    public class JsonWriterTests
    {
        [Test]
        public void EscapesQuotesBackslashesAndControlCharacters()
        {
            Assert.AreEqual("\"a\\\"b\\\\c\\nd\\re\\tf\\b\\f\\u0001\\u001f\"", Json.Quote("a\"b\\c\nd\re\tf\b\f\u0001\u001f"));
        }

        [Test]
        public void KeepsNonAsciiTextAndEscapesLineSeparators()
        {
            Assert.AreEqual("\"Zürich 東京 €\"", Json.Quote("Zürich 東京 €"));
            Assert.AreEqual("\"a\\u2028b\\u2029\"", Json.Quote("a\u2028b\u2029"));
        }

        [Test]
        public void KeepsSurrogatePairsAndReplacesLoneSurrogates()
        {
            string emoji = char.ConvertFromUtf32(0x1F4C8);
            Assert.AreEqual("\"" + emoji + "\"", Json.Quote(emoji));
            Assert.AreEqual("\"x\uFFFDy\uFFFD\"", Json.Quote("x\uD83Dy\uDCC8"));
        }

        [Test]
        public void WritesNullForANullString()
        {
            Assert.AreEqual("null", Json.Quote(null));
        }

        [Test]
        public void WritesNumbersInTheInvariantCultureAndRoundTrips()
        {
            CultureInfo previous = Thread.CurrentThread.CurrentCulture;
            Thread.CurrentThread.CurrentCulture = new CultureInfo("de-DE");
            try
            {
                var output = new StringBuilder();
                Json.WriteNumber(output, 4700.25);
                Assert.AreEqual("4700.25", output.ToString());
                Assert.AreEqual("{\"qty\":2,\"price\":0.1,\"big\":1E+21}",
                    new JsonObjectBuilder().Add("qty", 2.0).Add("price", 0.1).Add("big", 1e21).ToString());
            }
            finally
            {
                Thread.CurrentThread.CurrentCulture = previous;
            }
            double third = 1.0 / 3.0;
            var text = new StringBuilder();
            Json.WriteNumber(text, third);
            Assert.AreEqual(third, (double)Json.Parse(text.ToString()));
        }

        [Test]
        public void RefusesNonFiniteNumbers()
        {
            Assert.Throws<ArgumentException>(() => Json.WriteNumber(new StringBuilder(), double.NaN));
            Assert.Throws<ArgumentException>(() => Json.WriteNumber(new StringBuilder(), double.PositiveInfinity));
        }

        [Test]
        public void WritesNestedValuesAndSkipsAbsentOptionalFields()
        {
            var parameters = new Dictionary<string, object>();
            parameters["ratio"] = 3.0;
            parameters["name"] = "a\"b";
            parameters["flags"] = new List<object> { true, false, null, 7 };
            string json = new JsonObjectBuilder()
                .Add("key", "k")
                .AddOptional("instance", (string)null)
                .AddOptional("capital", (double?)null)
                .AddValue("params", parameters)
                .ToString();
            Assert.AreEqual("{\"key\":\"k\",\"params\":{\"ratio\":3,\"name\":\"a\\\"b\",\"flags\":[true,false,null,7]}}", json);
        }
    }

    [TestFixture]
    public class JsonReaderTests
    {
        [Test]
        public void ReadsAnIngestResponse()
        {
            var response = (Dictionary<string, object>)Json.Parse(
                "{\"run_id\": 12, \"accepted\": 997, \"duplicates\": 2,\n" +
                " \"rejected\": [{\"index\": 5, \"id\": \"x-9006\", \"error\": \"qty: must be \\\"> 0\\\"\"}]}");
            Assert.AreEqual(997.0, response["accepted"]);
            var rejected = (List<object>)response["rejected"];
            var first = (Dictionary<string, object>)rejected[0];
            Assert.AreEqual(5.0, first["index"]);
            Assert.AreEqual("x-9006", first["id"]);
            Assert.AreEqual("qty: must be \"> 0\"", first["error"]);
        }

        [Test]
        public void ReadsEscapesLiteralsAndNumbers()
        {
            var list = (List<object>)Json.Parse("[\"\\u00e9\\n\\/\", true, false, null, -1.5e3, {}]");
            Assert.AreEqual("é\n/", list[0]);
            Assert.AreEqual(true, list[1]);
            Assert.AreEqual(false, list[2]);
            Assert.IsNull(list[3]);
            Assert.AreEqual(-1500.0, list[4]);
            Assert.AreEqual(0, ((Dictionary<string, object>)list[5]).Count);
        }

        [Test]
        public void RoundTripsWhatTheWriterWrites()
        {
            string original = "tab\t quote\" slash\\ ctl\u0002 " + char.ConvertFromUtf32(0x1F600);
            Assert.AreEqual(original, Json.Parse(Json.Quote(original)));
        }

        [Test]
        public void RefusesMalformedDocuments()
        {
            Assert.Throws<FormatException>(() => Json.Parse("{\"a\": }"));
            Assert.Throws<FormatException>(() => Json.Parse("[1, 2"));
            Assert.Throws<FormatException>(() => Json.Parse("{} extra"));
            Assert.Throws<FormatException>(() => Json.Parse("<html>Bad Gateway</html>"));
        }
    }
}
