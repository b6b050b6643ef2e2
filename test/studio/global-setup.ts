/** The Studio's Chromium suites load the built app: build studio/dist when it is missing or stale. */
import { buildStudio } from '../../studio/build.mjs';

export default function setup(): void {
  buildStudio({ quiet: true });
}
