// Type definitions for consent-widget (window.ConsentWidget and its DOM events).

export type ConsentMode = "post" | "field";

export interface ConsentWidgetOptions {
  /** Notice id, e.g. "newsletter" (or data-notice on the element). */
  notice?: string;
  /** Verifier base URL [default: the origin widget.js was loaded from]. */
  verifier?: string;
  /** Language [default: <html lang>, then navigator.language, then the notice's default]. */
  lang?: string;
  /** "post" (default): POST the lead, then let the form go on; "field": only fill the hidden field. */
  mode?: ConsentMode;
  /** Name of the hidden input that receives the receipt [default: "consent_receipt"]. */
  fieldName?: string;
  /** Name of a global function called with the accepted (post) or signed (field) detail. */
  callback?: string;
  /** Name of a global function called with the error detail. */
  errorCallback?: string;
  /** Name (or #id / .class selector) of the e-mail input [default: the form's input[type=email]]. */
  emailField?: string;
  /** Name (or selector) of the phone input, sent in E.164 when it parses [default: input[type=tel]]. */
  phoneField?: string;
  /** The order reference a soft opt-in rests on [default: the form field the notice names in order_field]. */
  orderRef?: string;
  /** Comma-separated names of form fields to send with the lead in post mode. */
  fields?: string;
}

export interface ConsentWidgetApi {
  /** Resolves once the WebAssembly module runs. The methods below work from the first line of
   *  widget.js on: what is called before is queued and done then. */
  ready: Promise<ConsentWidgetApi>;
  /** performance.now() when widget.js started. */
  startedAt: number;
  /** Who signs receipts, once detected: the browser's WebCrypto Ed25519, or the fallback module sign_bg.wasm. */
  signer?: "webcrypto" | "fallback";
  /** Renders a widget into an element (or the first match of a selector) and returns its id at once,
   *  even before `ready`; an element already rendered keeps its id. Containers with
   *  `class="consent-widget" data-notice` render by themselves, also when added later. */
  render(element: Element | string, options?: ConsentWidgetOptions): string;
  /** The last receipt (compact JWS) the widget signed; null before that, before `ready`, or for an unknown id. */
  getReceipt(id: string): string | null;
  /** Unticks every box, forgets the answers, fetches a fresh nonce. */
  reset(id: string): void;
  /** Removes the widget and its listeners (while its notice loads, its request is aborted); the element may be
   *  rendered again at once. A container taken out of the document is removed by itself. */
  remove(id: string): void;
}

export interface ConsentReadyDetail { id: string; notice: string; version: number; lang: string; digest: string; purposes: string[]; }
export interface ConsentChangeDetail { id: string; purpose?: string; granted?: boolean; trusted?: boolean; minor?: boolean; }
export interface ConsentSignedDetail { id: string; receipt: string; }
export interface ConsentAcceptedDetail { id: string; lead_id: string; status: "pending_confirmation" | "awaiting_guardian" | "active" | "refused"; seal: string; receipt: string; }
export interface ConsentConfirmedDetail { id: string; lead_id: string; status: string; }
export interface ConsentErrorDetail { id: string; code: string; message: string; }

/** The widget's events: dispatched on the container, they bubble to the form, the document and the window. */
export interface ConsentEventMap {
  "consent:ready": CustomEvent<ConsentReadyDetail>;
  "consent:change": CustomEvent<ConsentChangeDetail>;
  "consent:signed": CustomEvent<ConsentSignedDetail>;
  "consent:accepted": CustomEvent<ConsentAcceptedDetail>;
  "consent:confirmed": CustomEvent<ConsentConfirmedDetail>;
  "consent:error": CustomEvent<ConsentErrorDetail>;
}

declare global {
  var ConsentWidget: ConsentWidgetApi;
  interface Window { ConsentWidget: ConsentWidgetApi; }
  interface ElementEventMap extends ConsentEventMap {}
  interface DocumentEventMap extends ConsentEventMap {}
  interface WindowEventMap extends ConsentEventMap {}
}
