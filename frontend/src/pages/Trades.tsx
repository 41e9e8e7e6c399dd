// Every trade across runs: filters, sort and paging all happen on the server (pages of
// 500, drawn virtualised), with totals of the whole filtered set, so the page stays fast
// however many trades there are.
import { api, unwrap } from "../api/client";
import { DerivationNote } from "../components/DerivationNote";
import { TradeList } from "../components/TradeList";
import { useLoad, useStream } from "../lib/hooks";

export default function Trades() {
  const derivation = useLoad((signal) => unwrap(api.GET("/api/derivation", { signal })), []);
  useStream(["position_derived"], () => derivation.reload());
  useStream(["ingested"], () => derivation.reload(), 1000);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Trades</h1>
      </div>
      <DerivationNote state={derivation.data} showRun />
      <TradeList />
    </div>
  );
}
