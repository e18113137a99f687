//! The snapshot: a view's [`Beacon`] brought up to date from its rules, its
//! attribution, the loader's counts and the browser's device hints, just
//! before it is sent.

use super::dom::limited;
use super::js;
use super::loader::Loader;
use super::view::{take_names, View};
use crate::limits::{cut, MAX_FUNCTION_CHARS, MAX_URL_CHARS, MAX_WORD_CHARS};
use crate::vitals::script;
use crate::vitals::view::Metric;
use crate::wire::InpSubparts;

impl View {
    /// Brings the fields that change over the view's life up to date, so
    /// that the view's beacon is the snapshot to send (from the readings
    /// already handed to the view).
    pub fn snapshot(&mut self, loader: &Loader) {
        let until = self.ended_at.unwrap_or_else(js::now);
        let visible = (loader.visible_until(until) - self.visible_before).max(0.0);
        let errors = (loader.errors() - self.errors_before).max(0.0);
        let lcp_subparts = self.lcp_subparts();
        let inp_target = self.inp_target();
        let script = self.inp_script();
        let metric = |m| self.rules.metric(m);
        let inp_subparts = metric(Metric::InpInputDelay).map(|input_delay| InpSubparts {
            input_delay,
            processing: metric(Metric::InpProcessing).unwrap_or(0.0),
            presentation: metric(Metric::InpPresentation).unwrap_or(0.0),
        });
        let b = &mut self.beacon;
        b.ttfb_ms = metric(Metric::Ttfb);
        b.fcp_ms = metric(Metric::Fcp);
        b.lcp_ms = metric(Metric::Lcp);
        b.dcl_ms = metric(Metric::Dcl);
        b.load_ms = metric(Metric::Load);
        b.cls = metric(Metric::Cls);
        b.inp_ms = metric(Metric::Inp);
        b.inp_target = inp_target;
        b.inp_subparts = inp_subparts;
        let text = |key| script.as_ref().and_then(|(s, ..)| js::text(s, key));
        b.inp_script_url = text("sourceURL")
            .map(|url| String::from(cut(script::source_url(&url), MAX_URL_CHARS)))
            .filter(|u| !u.is_empty());
        b.inp_script_function = text("sourceFunctionName").map(|f| limited(f, MAX_FUNCTION_CHARS));
        b.inp_script_invoker = text("invokerType").map(|i| limited(i, MAX_WORD_CHARS));
        b.inp_script_ms = script.as_ref().map(|s| s.1);
        b.inp_script_subpart = script.as_ref().map(|s| s.2);
        b.lcp_subparts = lcp_subparts.filter(|_| b.lcp_ms.is_some());
        b.visible_ms = Some(visible);
        b.errors = Some(errors as u32);
        take_names(loader, b, false);
        let n = js::window().navigator();
        let c = js::get(&n, "connection");
        if !c.is_undefined() {
            b.effective_type = js::text(&c, "effectiveType");
            b.downlink_mbps = js::num(&c, "downlink");
            b.rtt_ms = js::num(&c, "rtt");
            b.save_data = js::flag(&c, "saveData");
        }
        b.device_memory = js::num(&n, "deviceMemory");
        b.cpu_cores = Some(n.hardware_concurrency()).filter(|c| *c > 0.0).map(|c| c as u16);
        let f = &self.frustration;
        b.rage_clicks = Some(f.rage_clicks);
        b.dead_clicks = Some(f.dead_clicks);
        b.frustration_target = f.first.as_ref().map(|(target, _)| target.clone());
        b.frustration_at_ms = f.first.as_ref().map(|(_, at)| *at);
    }
}
