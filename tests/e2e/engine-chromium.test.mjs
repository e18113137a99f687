// The cross-engine visits (engines.mjs) in Chromium, through chromedriver: the control.
import { suite } from './engines.mjs';

suite('chromium');
