// The cross-engine visits (engines.mjs) in WebKitGTK (Safari's engine), through WebKitWebDriver under Xvfb.
import { suite } from './engines.mjs';

suite('webkit');
