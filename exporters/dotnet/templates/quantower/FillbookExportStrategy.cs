// Fillbook exporter for Quantower: a strategy that streams the chosen account's orders and
// fills, and the chosen symbol's closed bars, to Fillbook through Fillbook.Exporter.
//
// A thin mapping: everything that does not need Quantower's SDK (times, sides, statuses,
// order types, point value, the spool, sending) lives in Fillbook.Exporter.dll, which is
// compiled and unit-tested in exporters/dotnet. This file needs TradingPlatform.BusinessLayer
// and was NOT compiled here; see README.md.
//
// Quantower reports times in UTC; its bars are stamped with their open time (TimeLeft).

using System;
using System.Collections.Generic;
using Fillbook.Exporter;
using TradingPlatform.BusinessLayer;

namespace Fillbook.Quantower
{
    public sealed class FillbookExportStrategy : Strategy
    {
        [InputParameter("Fillbook URL", 10)]
        public string BaseUrl = "https://fillbook.example.com";

        [InputParameter("API key", 20)]
        public string ApiKey = "";

        [InputParameter("Source (this desk's name)", 30)]
        public string Source = "quantower";

        [InputParameter("Run key (new key = new run)", 40)]
        public string RunKey = "";

        [InputParameter("Strategy name", 50)]
        public string StrategyName = "Quantower";

        [InputParameter("Mode: live or paper", 60)]
        public string Mode = "live";

        [InputParameter("Account", 70)]
        public Account CurrentAccount;

        [InputParameter("Symbol for bars", 80)]
        public Symbol CurrentSymbol;

        [InputParameter("Bar period", 90)]
        public Period BarPeriod = Period.MIN1;

        private StrategyExporter exporter;
        private HistoricalData history;
        private readonly HashSet<string> declaredSymbols = new HashSet<string>();
        private readonly HashSet<Order> watchedOrders = new HashSet<Order>();

        public FillbookExportStrategy()
        {
            Name = "Fillbook exporter";
            Description = "Streams orders, fills and bars to Fillbook";
        }

        protected override void OnRun()
        {
            if (CurrentAccount == null)
            {
                Log("Choose an account to export.", StrategyLoggingLevel.Error);
                Stop();
                return;
            }
            exporter = new StrategyExporter(new ExporterOptions
            {
                BaseUrl = BaseUrl,
                ApiKey = ApiKey,
                Source = Source,
                Run = new RunInfo
                {
                    Key = string.IsNullOrEmpty(RunKey) ? DateTime.UtcNow.ToString("yyyy-MM-dd") + "-" + CurrentAccount.Name : RunKey,
                    Strategy = StrategyName,
                    Instance = CurrentAccount.Name,
                    Mode = Mode,
                },
                OnRejected = rejected => Log("Fillbook rejected " + rejected, StrategyLoggingLevel.Error),
                OnStopped = reason => Log("Fillbook exporter stopped: " + reason, StrategyLoggingLevel.Error),
                Log = message => Log(message, StrategyLoggingLevel.Info),
            });

            Core.Instance.TradeAdded += OnTradeAdded;
            Core.Instance.OrderAdded += OnOrderAdded;
            Core.Instance.OrdersHistoryAdded += OnOrdersHistoryAdded;
            foreach (Order order in Core.Instance.Orders) OnOrderAdded(order);

            if (CurrentSymbol != null)
            {
                history = CurrentSymbol.GetHistory(BarPeriod, CurrentSymbol.HistoryType, DateTime.UtcNow);
                history.NewHistoryItem += OnNewHistoryItem;
            }
        }

        protected override void OnStop()
        {
            Core.Instance.TradeAdded -= OnTradeAdded;
            Core.Instance.OrderAdded -= OnOrderAdded;
            Core.Instance.OrdersHistoryAdded -= OnOrdersHistoryAdded;
            lock (watchedOrders)
            {
                foreach (Order order in watchedOrders) order.Updated -= OnOrderUpdated;
                watchedOrders.Clear();
            }
            if (history != null)
            {
                history.NewHistoryItem -= OnNewHistoryItem;
                history.Dispose();
                history = null;
            }
            if (exporter != null)
            {
                exporter.Dispose(); // flushes for a few seconds; the rest stays spooled for next time
                exporter = null;
            }
        }

        private bool Mine(Account account)
        {
            return account != null && CurrentAccount != null && account.Id == CurrentAccount.Id;
        }

        /// <summary>The instrument once per symbol: point value = GetTickCost(price) / TickSize.</summary>
        private void Declare(Symbol symbol, double price)
        {
            if (symbol == null || !declaredSymbols.Add(symbol.Name)) return;
            double? multiplier = null;
            try
            {
                multiplier = InstrumentMath.PointValue(symbol.GetTickCost(price), symbol.TickSize);
            }
            catch (ArgumentException error)
            {
                Log("No point value for " + symbol.Name + ": " + error.Message, StrategyLoggingLevel.Error);
            }
            exporter.Instrument(symbol.Name, multiplier: multiplier, tickSize: PlatformValue.Price(symbol.TickSize),
                currency: symbol.QuotingCurrency != null ? symbol.QuotingCurrency.Name : null);
        }

        private void OnTradeAdded(Trade trade)
        {
            if (!Mine(trade.Account)) return;
            Declare(trade.Symbol, trade.Price);
            exporter.Execution(
                trade.Symbol.Name,
                ContractNames.Side(trade.Side.ToString()),
                trade.Quantity,
                trade.Price,
                PlatformTime.AssumeUtc(trade.DateTime),
                id: trade.Id,
                orderId: trade.OrderId,
                commission: trade.Fee != null ? PlatformValue.Commission(trade.Fee.Value) : null,
                account: trade.Account.Name);
        }

        private void OnOrderAdded(Order order)
        {
            if (!Mine(order.Account)) return;
            lock (watchedOrders)
            {
                if (watchedOrders.Add(order)) order.Updated += OnOrderUpdated;
            }
            SendOrder(order);
        }

        private void OnOrderUpdated(IOrder updated)
        {
            var order = updated as Order;
            if (order != null) SendOrder(order);
        }

        /// <summary>Final states (filled, cancelled, refused) arrive as order history.</summary>
        private void OnOrdersHistoryAdded(OrderHistory order)
        {
            if (!Mine(order.Account)) return;
            SendOrder(order);
        }

        private void SendOrder(Order order)
        {
            if (order.Symbol == null || order.OrderType == null) return;
            string orderType = ContractNames.OrderType(order.OrderType.Behavior.ToString());
            Declare(order.Symbol, order.Price);
            // No id: the exporter derives one from the content, which includes the update time,
            // so each change is its own order event and a replayed change is a duplicate.
            exporter.Order(
                order.Id,
                order.Symbol.Name,
                ContractNames.Side(order.Side.ToString()),
                orderType,
                order.TotalQuantity,
                ContractNames.OrderStatus(order.Status.ToString()),
                PlatformTime.AssumeUtc(order.LastUpdateTime == default(DateTime) ? DateTime.UtcNow : order.LastUpdateTime),
                limitPrice: orderType == "limit" || orderType == "stop_limit" ? PlatformValue.Price(order.Price) : null,
                stopPrice: orderType == "stop" || orderType == "stop_limit" ? PlatformValue.Price(order.TriggerPrice) : null,
                tif: ContractNames.TimeInForce(order.TimeInForce.ToString()),
                filledQty: order.FilledQuantity,
                avgFillPrice: PlatformValue.Price(order.AverageFillPrice));
        }

        /// <summary>
        /// NewHistoryItem fires when a new bar opens: the bar before it (offset 1 from the end)
        /// has just closed and is final.
        /// </summary>
        private void OnNewHistoryItem(object sender, HistoryEventArgs e)
        {
            if (history == null || history.Count < 2) return;
            var bar = history[1, SeekOriginHistory.End] as HistoryItemBar;
            if (bar == null) return;
            exporter.Bar(
                CurrentSymbol.Name,
                BarTime.Timeframe(BarPeriod.Duration),
                PlatformTime.AssumeUtc(bar.TimeLeft),
                bar.Open, bar.High, bar.Low, bar.Close,
                volume: double.IsNaN(bar.Volume) ? (double?)null : bar.Volume);
        }
    }
}
