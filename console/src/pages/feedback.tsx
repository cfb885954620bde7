// Marks on a logged request for retraining: a false positive (it was clean) or a false
// negative (it was an attack of a given vector). Needs feedback.write.
import { useState } from "react";
import { ErrorBox, Notice } from "../components";
import { post } from "../lib/api";
import { useSession } from "../lib/auth";
import { useAction } from "../lib/hooks";

export interface MarkedRequest {
  zone: string;
  model_version: string;
  score: number;
  sqli: number;
  xss: number;
  rce: number;
  request: { method: string; uri: string; headers: [string, string][]; body_base64: string };
}

export function FeedbackButtons({ item }: { item: MarkedRequest }) {
  const session = useSession();
  const action = useAction();
  const [vector, setVector] = useState("sqli");
  const [done, setDone] = useState<string | null>(null);
  if (!session.can("feedback.write", item.zone)) return null;
  const request: Record<string, unknown> = {
    method: item.request.method,
    uri: item.request.uri,
    headers: item.request.headers,
  };
  if (item.request.body_base64) request["body_base64"] = item.request.body_base64;
  const mark = (label: string) =>
    void action
      .run(() =>
        post("/v1/models/feedback", {
          label,
          request,
          zone: item.zone,
          vector: label === "false_negative" ? vector : null,
          model_version: item.model_version || null,
          scores: { score: item.score, sqli: item.sqli, xss: item.xss, rce: item.rce },
        }),
      )
      .then((ok) => ok && setDone(label.replace("_", " ")));
  return (
    <>
      <button type="button" disabled={action.busy} onClick={() => mark("false_positive")} data-testid="mark-fp">
        Mark false positive
      </button>
      <select value={vector} onChange={(e) => setVector(e.target.value)} aria-label="missed vector">
        <option value="sqli">sqli</option>
        <option value="xss">xss</option>
        <option value="rce">rce</option>
      </select>
      <button type="button" disabled={action.busy} onClick={() => mark("false_negative")} data-testid="mark-fn">
        Mark false negative
      </button>
      <ErrorBox error={action.error} />
      {done && <Notice>Marked as {done}: it goes into the next training run.</Notice>}
    </>
  );
}
