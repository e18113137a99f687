// The cross-engine visits (engines.mjs) in Firefox ESR, through geckodriver.
import { suite } from './engines.mjs';

suite('firefox');
