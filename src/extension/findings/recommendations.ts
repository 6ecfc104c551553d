import { fixLabel } from '../../core/findings/findingText';
import { fixJob } from '../../core/findings/fixChoices';
import type { FindingsReport } from '../../protocol/findingTypes';
import type { Recommendation } from '../../protocol/webviewProtocol';

/** The findings with their fixes labelled for the webviews' buttons. */
export function recommendations(report: FindingsReport | undefined): Recommendation[] {
  return (report?.findings ?? []).map((finding) => ({
    finding,
    fixes: [...(finding.fix ? [finding.fix] : []), ...finding.alternatives].map((fix) => ({ label: fixLabel(fix), fix, runs: fixJob(fix, [finding.layer]).job !== 'none' })),
  }));
}
