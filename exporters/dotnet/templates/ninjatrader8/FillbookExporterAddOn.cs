// Fillbook exporter for NinjaTrader 8: an add-on that streams one account's orders and
// executions (including executions the broker amends or removes later) and closed bars of
// chosen instruments to Fillbook through Fillbook.Exporter.
//
// A thin mapping: everything that does not need NinjaTrader's assemblies (platform time zone
// to UTC, close-stamped bars to open times, sides, order states and types, execution
// operations, the settings file, the spool, sending) lives in Fillbook.Exporter.dll, which is
// compiled and unit-tested in exporters/dotnet. This file needs NinjaTrader.Core,
// NinjaTrader.Cbi and NinjaTrader.Data and was NOT compiled here; see README.md.
//
// NinjaTrader stamps every time in the time zone chosen under Tools > Options > General
// (Core.Globals.GeneralOptions.TimeZoneInfo), not in UTC, and stamps a bar with its CLOSE time.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Fillbook.Exporter;
using NinjaTrader.Cbi;
using NinjaTrader.Data;

namespace NinjaTrader.NinjaScript.AddOns
{
    public class FillbookExporterAddOn : AddOnBase
    {
        private StrategyExporter exporter;
        private Account account;
        private TimeZoneInfo platformZone;
        private readonly List<BarsRequest> barsRequests = new List<BarsRequest>();
        private readonly Dictionary<string, int> lastSentBar = new Dictionary<string, int>();
        private readonly HashSet<string> declaredInstruments = new HashSet<string>();

        /// <summary>Documents\NinjaTrader 8\fillbook.config (see README.md for its keys).</summary>
        private static string ConfigPath
        {
            get { return Path.Combine(NinjaTrader.Core.Globals.UserDataDir, "fillbook.config"); }
        }

        protected override void OnStateChange()
        {
            if (State == State.SetDefaults)
            {
                Name = "Fillbook exporter";
                Description = "Streams orders, executions and bars to Fillbook";
            }
            else if (State == State.Active)
            {
                Start();
            }
            else if (State == State.Terminated)
            {
                Shutdown();
            }
        }

        private void Start()
        {
            Dictionary<string, string> settings;
            try
            {
                settings = KeyValueConfig.Parse(File.ReadAllText(ConfigPath));
            }
            catch (Exception error)
            {
                Output("Fillbook: cannot read " + ConfigPath + ": " + error.Message);
                return;
            }
            ExporterOptions options = KeyValueConfig.ToOptions(settings);
            options.OnRejected = rejected => Output("Fillbook rejected " + rejected);
            options.OnStopped = reason => Output("Fillbook exporter stopped: " + reason);
            options.Log = message => Output("Fillbook: " + message);
            exporter = new StrategyExporter(options);
            platformZone = NinjaTrader.Core.Globals.GeneralOptions.TimeZoneInfo;

            string accountName;
            settings.TryGetValue("account", out accountName);
            lock (Account.All)
                account = Account.All.FirstOrDefault(a => a.Name == (accountName ?? "Sim101"));
            if (account == null)
            {
                Output("Fillbook: no account named " + accountName);
                return;
            }
            account.ExecutionUpdate += OnExecutionUpdate;
            account.OrderUpdate += OnOrderUpdate;

            // bars = MES 03-24, MNQ 03-24      bar_minutes = 1
            string barInstruments;
            if (settings.TryGetValue("bars", out barInstruments) && barInstruments.Length > 0)
            {
                string minutesText;
                int minutes = settings.TryGetValue("bar_minutes", out minutesText) ? int.Parse(minutesText) : 1;
                foreach (string name in barInstruments.Split(','))
                {
                    Instrument instrument = Instrument.GetInstrument(name.Trim());
                    if (instrument != null) RequestBars(instrument, minutes);
                }
            }
        }

        private void Shutdown()
        {
            if (account != null)
            {
                account.ExecutionUpdate -= OnExecutionUpdate;
                account.OrderUpdate -= OnOrderUpdate;
                account = null;
            }
            foreach (BarsRequest request in barsRequests)
            {
                request.Update -= OnBarsUpdate;
                request.Dispose();
            }
            barsRequests.Clear();
            if (exporter != null)
            {
                exporter.Dispose(); // flushes for a few seconds; the rest stays spooled for next time
                exporter = null;
            }
        }

        private DateTimeOffset Utc(DateTime platformTime)
        {
            return PlatformTime.ToUtc(platformTime, platformZone);
        }

        private void Declare(Instrument instrument)
        {
            if (instrument == null || !declaredInstruments.Add(instrument.FullName)) return;
            MasterInstrument master = instrument.MasterInstrument;
            exporter.Instrument(instrument.FullName, multiplier: master.PointValue, tickSize: master.TickSize);
        }

        /// <summary>
        /// New executions, and the broker's later amendments (Operation.Update) and removals
        /// (Operation.Remove) of an execution, keyed by its ExecutionId. The passed-by-value
        /// arguments are used, as NinjaTrader recommends, not the live Execution object.
        /// </summary>
        private void OnExecutionUpdate(object sender, ExecutionEventArgs e)
        {
            if (exporter == null || e.Execution == null) return;
            Declare(e.Execution.Instrument);
            string op = ContractNames.ExecutionOperation(e.Operation.ToString());
            exporter.Execution(
                e.Execution.Instrument.FullName,
                ContractNames.Side(e.MarketPosition.ToString()),
                e.Quantity,
                e.Price,
                Utc(e.Time),
                id: e.ExecutionId,
                orderId: e.OrderId,
                commission: PlatformValue.Commission(e.Execution.Commission),
                account: e.Execution.Account != null ? e.Execution.Account.Name : null,
                op: op);
        }

        private void OnOrderUpdate(object sender, OrderEventArgs e)
        {
            if (exporter == null || e.Order == null) return;
            Order order = e.Order;
            Declare(order.Instrument);
            string orderType = ContractNames.OrderType(order.OrderType.ToString());
            // No id: derived from the content (state, time, quantities), so every state change
            // is its own order event and a replayed one is a duplicate.
            exporter.Order(
                e.OrderId,
                order.Instrument.FullName,
                ContractNames.Side(order.OrderAction.ToString()),
                orderType,
                e.Quantity,
                ContractNames.OrderStatus(e.OrderState.ToString()),
                Utc(e.Time),
                limitPrice: orderType == "limit" || orderType == "stop_limit" ? PlatformValue.Price(e.LimitPrice) : null,
                stopPrice: orderType == "stop" || orderType == "stop_limit" ? PlatformValue.Price(e.StopPrice) : null,
                tif: ContractNames.TimeInForce(order.TimeInForce.ToString()),
                filledQty: e.Filled,
                avgFillPrice: PlatformValue.Price(e.AverageFillPrice),
                reason: e.Error != ErrorCode.NoError ? e.Comment : null);
        }

        private void RequestBars(Instrument instrument, int minutes)
        {
            var request = new BarsRequest(instrument, DateTime.Now.AddDays(-1), DateTime.Now);
            request.BarsPeriod = new BarsPeriod { BarsPeriodType = BarsPeriodType.Minute, Value = minutes };
            request.Update += OnBarsUpdate;
            barsRequests.Add(request);
            request.Request((bars, errorCode, errorMessage) =>
            {
                if (errorCode != ErrorCode.NoError)
                {
                    Output("Fillbook: bars of " + instrument.FullName + ": " + errorCode + " " + errorMessage);
                    return;
                }
                SendClosedBars(bars.Bars, instrument, minutes);
            });
        }

        private void OnBarsUpdate(object sender, BarsUpdateEventArgs e)
        {
            var request = sender as BarsRequest;
            if (request == null) return;
            SendClosedBars(request.Bars, request.Bars.Instrument, request.BarsPeriod.Value);
        }

        /// <summary>
        /// Every bar but the last is closed; each is sent once, stamped with its open time in UTC
        /// (close time in the platform zone, to UTC, minus the period).
        /// </summary>
        private void SendClosedBars(Bars bars, Instrument instrument, int minutes)
        {
            if (exporter == null) return;
            TimeSpan period = TimeSpan.FromMinutes(minutes);
            string timeframe = BarTime.Timeframe(period);
            lock (lastSentBar)
            {
                int last;
                if (!lastSentBar.TryGetValue(instrument.FullName, out last)) last = -1;
                for (int i = last + 1; i < bars.Count - 1; i++)
                {
                    DateTimeOffset open = BarTime.OpenFromClose(Utc(bars.GetTime(i)), period);
                    exporter.Bar(instrument.FullName, timeframe, open, bars.GetOpen(i), bars.GetHigh(i),
                        bars.GetLow(i), bars.GetClose(i), volume: bars.GetVolume(i));
                    last = i;
                }
                lastSentBar[instrument.FullName] = last;
            }
        }

        private static void Output(string message)
        {
            NinjaTrader.Code.Output.Process(message, PrintTo.OutputTab1);
        }
    }
}
