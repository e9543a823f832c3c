//! Issue 17's reads: the performance assessment (考核, docs/domain.md R-ASM-1) and the monthly
//! complaint analysis (投诉分析报告, R-ANA-1), both from the casework projection and the SLA
//! projection, with `now` a parameter.

use super::*;
use plaint_projections::casework::{AssessBy, AssessmentReport, ComplaintAnalysis};

impl Engine {
    /// The assessment of the tickets received in `[from, to)`, per handler or department, with
    /// SLA verdicts judged at `now`.
    pub async fn assessment_report(
        &self,
        from: Timestamp,
        to: Timestamp,
        by: AssessBy,
        now: Timestamp,
    ) -> Result<AssessmentReport, EngineError> {
        if from >= to {
            return Err(EngineError::bad_input(
                "period",
                format!("the period starts at {from}, not before its end {to}"),
            ));
        }
        self.with_projections(|p| {
            p.casework
                .state
                .assessment(from, to, by, &p.sla.state, now, &self.policy)
        })
        .await
    }

    /// The monthly complaint analysis of `month` at `now`: high-frequency, high-cost and
    /// high-risk categories, the trend against the month before, finance totals, incident groups
    /// and the improvement actions with whether their category fell afterwards.
    pub async fn complaint_analysis(&self, month: Month, now: Timestamp) -> Result<ComplaintAnalysis, EngineError> {
        self.with_projections(|p| p.casework.state.analysis(month, now, &self.policy))
            .await
    }
}
