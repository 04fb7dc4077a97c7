// <personio-integration>: the Personio setup of one funnel, as the help
// article walks a customer through it: add and check a Personio account,
// pick the job position, required and optional assignment, save, switch on,
// send a test application, the delivery log and the connection's health.
//
// It talks only to the editor API (pkg/editor/openapi.yaml). The embedding
// editor gives it:
//   api-base   (attribute or .apiBase)   the API's base URL ("" = this origin)
//   funnel-id  (attribute or .funnelId)  the funnel
//   lang       (attribute or .lang)      "de" or "en"
//   .fields    the funnel's fields: [{id, label, type, choices}]; ids
//              "contact.first_name|last_name|full_name|email|phone" are the
//              contact step, other ids are questions (answers.<id>, files.<id>)
//   .getToken  async () => the editor's JWT, asked for before every request;
//              the element keeps it nowhere and never logs it.
// Events: "personio-ready" (first render with data), "personio-change".
// No framework, no build step, no dependencies.

// Statuses, transforms, fits: from GET /v1/personio/targets. FINAL ends a test's watch.
const REQUIRED = ['first_name', 'last_name', 'email'];
const FINAL = new Set(['delivered', 'unconfirmed', 'failed', 'dead', 'skipped', 'parked']);
const CONTACT = ['first_name', 'last_name', 'full_name', 'email', 'phone'];
const EXTRA_SOURCES = ['event.occurred_at', 'tracking.utm_source', 'tracking.utm_medium', 'tracking.utm_campaign'];

const STRINGS = {
  en: {
    title: 'Personio', intro: 'Every application from this funnel becomes an application in Personio, within seconds.',
    loading: 'Loading the Personio integration…', on: 'On', off: 'Off',
    s1: '1. Personio account', s1help: 'Connect the Personio account the applications go to. Several named accounts can be kept; pick one for this funnel.',
    account: 'Account for this funnel', chooseAccount: '— choose an account —', addAccount: 'Add new account', cancel: 'Cancel',
    accName: 'Name', accNameHelp: 'To find it again, e.g. “Personio Integration [Customer Name]”.',
    companyId: 'Company ID', token: 'Access token', tokenHelp: 'Written once, never shown again.',
    where: 'In Personio: Settings › Integrations › API access data › “Recruiting integrations” (in newer accounts: Marketplace › Connected integrations › Recruiting integrations). Copy the Company ID and the access token from there.',
    check: 'Check connection', checking: 'Checking with Personio…', connected: (n) => `Connected: Personio accepted the credentials of “${n}”.`,
    connectedBeside: (n) => `Connected: “${n}”. This funnel still uses the account chosen above; choose “${n}” there to switch.`,
    sameCompany: (other, c) => `“${other}” connects company ${c} already: two accounts of one company share Personio’s limit of 20 requests a minute.`,
    renameAccount: 'Rename account', removeAccount: 'Remove account', newName: 'New name', saveName: 'Save name',
    renamed: (n) => `Renamed to “${n}”.`, removed: (n) => `The account “${n}” and its access token were removed.`,
    needsAttention: 'needs attention', company: (c) => `company ${c}`, companyInvalid: 'The Company ID is a number (up to 18 digits).',
    nameMissing: 'Give the account a name.', tokenMissing: 'Paste the access token.',
    ra: 'Read access (recommended)', raHelp: 'Lets this integration confirm every application in Personio and list all your jobs. In Personio, open Settings › Integrations › API credentials, create a credential with the scope personio:recruiting:read, and paste its client ID and secret here.',
    raSet: (d) => `Read access is set; Personio last accepted it ${d}.`, raNone: 'No read access is set.', clientId: 'Client ID', clientSecret: 'Client secret',
    raSave: 'Check and save read access', raReplace: 'Replace read access', raRemove: 'Remove read access', raSaved: 'Read access saved: Personio accepted the credential.', raRemoved: 'Read access removed.',
    raMissing: 'Paste the client ID and the secret.', appId: (id) => `Personio application ${id}`,
    raErr: {
      'read-access-refused': 'Personio did not accept this client ID and secret. Check them in Personio under Settings › Integrations › API credentials; Personio shows a secret only once, so a lost one needs a new credential. Nothing was saved.',
      'read-access-scope-missing': 'This credential may not read recruiting data: give it the scope personio:recruiting:read in Personio (Settings › Integrations › API credentials), or create one that has it. Nothing was saved.',
      'read-access-unavailable': 'Personio offers no Recruiting API v2 for this account; ask Personio’s support to enable it. Applications are delivered without read access. Nothing was saved.',
      'personio-rate-limited': 'Personio refused more requests for now; try again in a minute. Nothing was saved.',
    },
    s2: '2. Job position', s2help: 'Applications from this funnel are assigned to this position in Personio.',
    fromFeed: 'From your career site', subdomain: 'Career site subdomain', subdomainHelp: 'As in acme.jobs.personio.de', subdomainEmpty: 'Enter the subdomain first.', subdomainInvalid: 'A subdomain has only lower-case letters, digits and hyphens.',
    loadPositions: 'Load positions', position: 'Position', choosePosition: '— choose a position —',
    orPaste: 'Or paste the position’s ID or its URL from Personio', pasteHelp: 'Personio › Recruiting › the position: the ID is the number in the address.',
    useId: 'Use this ID', noId: 'No position ID found in this text: paste the number, or the address of the position in Personio.',
    chosen: (id, n) => n ? `Chosen: ${n} (ID ${id})` : `Chosen: position ID ${id}`, noPositions: 'The feed lists no published position.',
    routeOn: 'Different positions depending on an answer', routeLegend: 'A position for each answer', routeQuestion: 'Question that picks the position',
    routeFor: (c) => `Position for “${c}”`, routeDefaultOpt: '— the default position —', routeDefault: (n) => `Any other answer, or none: the default position${n}.`,
    routeNeedQuestion: 'Choose the question.', routeNeedPosition: 'Choose a position for an answer.',
    s3: '3. Required assignment', s3help: 'Personio needs first name, last name and e-mail for every application.',
    first_name: 'First name', last_name: 'Last name', email: 'E-mail', chooseField: '— choose a field —',
    splitFirst: (l) => `${l} — first name(s), split`, splitLast: (l) => `${l} — last name, split`,
    s4: '4. Optional assignment', s4help: 'Any other Personio field: phone, gender, birthday, custom attributes, files, message, tags.',
    row: (i) => `Assignment ${i}`, target: 'Personio field', chooseTarget: '— choose a Personio field —',
    grpApp: 'Application', grpAttr: 'Attributes', grpFiles: 'Files', attrId: 'Attribute ID (number)',
    attrIdHelp: 'custom_attribute_<ID> in Personio', attrType: 'Attribute type', valueFrom: 'Value from',
    kField: 'a funnel field', kConstant: 'a fixed value', kTemplate: 'a template', field: 'Funnel field',
    grpSplit: 'Split from a full name', grpContact: 'Contact', grpQuestions: 'Questions', grpFileFields: 'File uploads', grpOther: 'Other',
    constant: 'Fixed value', template: 'Template', templateHelp: 'Fields in {{…}}, e.g. {{answers.q_motivation}}.',
    tr: { trim: 'no spaces at the ends', lower: 'all lower case', upper: 'all upper case', title: 'Each Word Capitalised',
      first_name: 'first name(s) of a full name', last_name: 'last name of a full name', date: 'as yyyy-mm-dd',
      phone: 'as +49…, international', number: 'as a plain number', options: 'through the table below', join: 'several answers in one line' },
    src: { 'event.occurred_at': 'Time of the application', 'tracking.utm_source': 'Campaign source (utm_source)', 'tracking.utm_medium': 'Campaign medium (utm_medium)', 'tracking.utm_campaign': 'Campaign name (utm_campaign)' },
    kinds: { email: 'an e-mail address', name: 'a name', date: 'a date', phone: 'a phone number', number: 'a number', integer: 'a whole number',
      choice: 'one of its choices', multi_choice: 'several choices', consent: 'a yes or no', text: 'free text' },
    cannotFit: (f, s, a, b) => `${f} takes ${a}; “${s}” holds ${b}.`,
    needsTr: (f, s, a, b, x, l) => `${f} takes ${a}; “${s}” holds ${b}: with the transform “${x}” (${l}) it fits.`, addTr: (x) => `Add “${x}”`,
    savedWarn: (n) => `Settings saved, with ${n === 1 ? '1 warning' : n + ' warnings'}: see the fields marked.`,
    insertField: 'Insert a field', insert: 'Insert', transforms: 'Transforms', optionTable: 'Answer → Personio value',
    optionValue: (c) => `Personio value for “${c}”`, suggested: (v) => `(suggested: ${v})`, acceptSuggestions: (n) => n === 1 ? 'Accept the suggestion' : `Accept the ${n} suggestions`, noChoices: 'This field has no fixed choices: values go as typed.',
    moveUp: (i) => `Move assignment ${i} up`, moveDown: (i) => `Move assignment ${i} down`, remove: (i) => `Remove assignment ${i}`,
    up: 'Up', down: 'Down', del: 'Remove', addRow: 'Add assignment', keep: 'Add answers no assignment uses to the message',
    s5: '5. Save and switch on', save: 'Save settings', saving: 'Saving…', saved: 'Settings saved.',
    active: 'Integration active', activeHelpOff: 'Save the settings first, then switch the integration on.',
    switchedOn: 'The integration is on: new applications go to Personio.', switchedOff: 'The integration is off: no applications are sent.',
    problems: (n) => n === 1 ? 'The settings could not be saved: 1 problem.' : `The settings could not be saved: ${n} problems.`,
    needAccount: 'Choose or add a Personio account.', needPosition: 'Choose the job position.', needField: 'Choose a field.',
    needTarget: 'Choose a Personio field.', needAttr: 'Give the attribute’s ID (a number).',
    s6: '6. Test application', s6help: 'A test application through the real queue, in Personio within seconds.',
    sendTest: 'Send test application', testDelivered: (sec) => `The test application arrived in Personio, ${sec} s after it was sent.`, saveFirst: 'Save the settings before sending a test application.',
    s7: 'Delivery log', filter: 'Status', all: 'All', refresh: 'Refresh', more: 'Show more', retry: 'Retry', retried: 'Sent again.',
    empty: 'No applications yet.', when: 'When', status: 'Status', details: 'Details', test: 'test', attempts: (n) => n === 1 ? '1 attempt' : `${n} attempts`,
    st: { queued: 'queued', processing: 'processing', retrying: 'retrying', delivered: 'delivered', unconfirmed: 'unconfirmed', failed: 'failed', parked: 'parked', dead: 'dead-lettered', skipped: 'skipped' },
    bannerTitle: (n) => `The Personio account “${n}” needs attention`,
    bannerText: 'Personio no longer accepts its credentials (the access token may have been regenerated). Applications are kept and wait until new credentials are entered.',
    parked: (n) => n === 1 ? '1 application is waiting.' : `${n} applications are waiting.`,
    newCreds: 'Enter new credentials', saveCreds: 'Check and save', restored: (n) => `Connection restored. ${n === 1 ? '1 waiting application was' : n + ' waiting applications were'} sent again.`,
    planTitle: 'Available from the Advanced plan', planText: 'This workspace’s plan does not include the Personio integration. With the Advanced, Professional or Enterprise plan, this funnel can send every application to Personio:',
    planList: ['applications in Personio within seconds, CV attached', 'your own assignment of funnel fields to Personio fields', 'a delivery log with retries', 'a warning when Personio refuses the credentials, without losing applications'],
    planNeed: 'What it needs: a plan upgrade in the editor, and a Personio account with Recruiting (Company ID and access token).',
    sessionExpired: 'Your session has expired. Reload the editor and try again.', failedLoad: 'The integration could not be loaded.',
    tryAgain: 'Try again', gender: { male: 'male', female: 'female', diverse: 'diverse', undefined: 'not specified' },
    targets: { 'file:cv': 'File: CV', 'file:cover-letter': 'File: cover letter', 'file:employment-reference': 'File: employment reference', 'file:certificate': 'File: certificate', 'file:work-sample': 'File: work sample', 'file:other': 'File: other' },
    err: {
      'invalid-credentials': 'Personio did not accept this Company ID and access token. Check both in Personio: Settings › Integrations › API access data › “Recruiting integrations” (newer accounts: Marketplace › Connected integrations). Nothing was saved.',
      'recruiting-disabled': 'Recruiting or its API is not switched on for this Personio company. Switch it on in Personio, then check again. Nothing was saved.',
      'personio-unavailable': 'Personio could not be reached. Try again in a moment. Nothing was saved.',
      'personio-rate-limited': 'Personio allows 20 requests a minute per account; try again in a minute. Nothing was saved.',
      'feed-unavailable': (s) => `Personio has no public job feed for “${s}”. Switch the XML feed on in Personio (Settings › Recruiting › Career page), check the subdomain, or paste the position’s ID or URL instead.`,
      'precondition-failed': 'Someone else saved these settings meanwhile. Reload the page to see their version.',
      'connection-in-use': (f) => `${f && f.length > 1 ? 'The funnels ' + f.join(', ') + ' send' : 'The funnel ' + ((f && f[0]) || '') + ' sends'} applications through this account. Switch the integration off or choose another account there first; nothing was removed.`,
      'not-retryable': 'This delivery cannot be sent again.', 'event-expired': 'The application is no longer kept, so it cannot be sent again.',
      'no-integration': 'Save the settings before sending a test application.', unavailable: 'Temporarily unavailable; try again in a few seconds.',
      network: 'The service could not be reached. Check the connection and try again.', other: 'Something went wrong.',
    },
  },
  de: {
    title: 'Personio', intro: 'Jede Bewerbung aus diesem Funnel wird in Sekunden zu einer Bewerbung in Personio.',
    loading: 'Personio-Integration wird geladen…', on: 'An', off: 'Aus',
    s1: '1. Personio-Konto', s1help: 'Verbinden Sie das Personio-Konto, in das die Bewerbungen gehen. Mehrere benannte Konten sind möglich; wählen Sie eines für diesen Funnel.',
    account: 'Konto für diesen Funnel', chooseAccount: '— Konto wählen —', addAccount: 'Neues Konto hinzufügen', cancel: 'Abbrechen',
    accName: 'Name', accNameHelp: 'Zum Wiederfinden, z. B. „Personio Integration [Kundenname]“.',
    companyId: 'Company ID', token: 'Access Token', tokenHelp: 'Wird einmal eingegeben und nie wieder angezeigt.',
    where: 'In Personio: Einstellungen › Integrationen › API-Zugangsdaten › „Recruiting-Integrationen“ (in neueren Konten: Marketplace › Verbundene Integrationen › Recruiting-Integrationen). Kopieren Sie dort die Company ID und den Access Token.',
    check: 'Verbindung prüfen', checking: 'Wird bei Personio geprüft…', connected: (n) => `Verbunden: Personio hat die Zugangsdaten von „${n}“ akzeptiert.`,
    connectedBeside: (n) => `Verbunden: „${n}“. Dieser Funnel nutzt weiter das oben gewählte Konto; wählen Sie dort „${n}“, um zu wechseln.`,
    sameCompany: (other, c) => `„${other}“ verbindet Company ${c} schon: zwei Konten einer Company teilen sich Personios Grenze von 20 Anfragen pro Minute.`,
    renameAccount: 'Konto umbenennen', removeAccount: 'Konto entfernen', newName: 'Neuer Name', saveName: 'Namen speichern',
    renamed: (n) => `Umbenannt in „${n}“.`, removed: (n) => `Das Konto „${n}“ und sein Access Token wurden entfernt.`,
    needsAttention: 'braucht Aufmerksamkeit', company: (c) => `Company ${c}`, companyInvalid: 'Die Company ID ist eine Zahl (bis zu 18 Ziffern).',
    nameMissing: 'Geben Sie dem Konto einen Namen.', tokenMissing: 'Fügen Sie den Access Token ein.',
    ra: 'Lesezugriff (empfohlen)', raHelp: 'Damit bestätigt die Integration jede Bewerbung in Personio und listet alle Ihre Stellen. Legen Sie in Personio unter Einstellungen › Integrationen › API-Zugangsdaten neue Zugangsdaten mit dem Scope personio:recruiting:read an und fügen Sie hier Client-ID und Secret ein.',
    raSet: (d) => `Lesezugriff ist eingerichtet; Personio hat ihn zuletzt ${d} akzeptiert.`, raNone: 'Kein Lesezugriff eingerichtet.', clientId: 'Client-ID', clientSecret: 'Client Secret',
    raSave: 'Lesezugriff prüfen und speichern', raReplace: 'Lesezugriff ersetzen', raRemove: 'Lesezugriff entfernen', raSaved: 'Lesezugriff gespeichert: Personio hat die Zugangsdaten akzeptiert.', raRemoved: 'Lesezugriff entfernt.',
    raMissing: 'Fügen Sie Client-ID und Secret ein.', appId: (id) => `Personio-Bewerbung ${id}`,
    raErr: {
      'read-access-refused': 'Personio hat diese Client-ID und dieses Secret nicht akzeptiert. Prüfen Sie beide in Personio unter Einstellungen › Integrationen › API-Zugangsdaten; Personio zeigt ein Secret nur einmal, ein verlorenes braucht neue Zugangsdaten. Es wurde nichts gespeichert.',
      'read-access-scope-missing': 'Diese Zugangsdaten dürfen keine Recruiting-Daten lesen: Geben Sie ihnen in Personio den Scope personio:recruiting:read (Einstellungen › Integrationen › API-Zugangsdaten) oder legen Sie neue mit diesem Scope an. Es wurde nichts gespeichert.',
      'read-access-unavailable': 'Personio bietet für dieses Konto keine Recruiting-API v2; bitten Sie den Personio-Support, sie freizuschalten. Bewerbungen werden auch ohne Lesezugriff übertragen. Es wurde nichts gespeichert.',
      'personio-rate-limited': 'Personio nimmt gerade keine weiteren Anfragen an; versuchen Sie es in einer Minute noch einmal. Es wurde nichts gespeichert.',
    },
    s2: '2. Stelle', s2help: 'Bewerbungen aus diesem Funnel werden in Personio dieser Stelle zugeordnet.',
    fromFeed: 'Aus Ihrer Karriereseite', subdomain: 'Subdomain der Karriereseite', subdomainHelp: 'Wie in acme.jobs.personio.de', subdomainEmpty: 'Geben Sie zuerst die Subdomain ein.', subdomainInvalid: 'Eine Subdomain hat nur Kleinbuchstaben, Ziffern und Bindestriche.',
    loadPositions: 'Stellen laden', position: 'Stelle', choosePosition: '— Stelle wählen —',
    orPaste: 'Oder die ID der Stelle oder ihre URL aus Personio einfügen', pasteHelp: 'Personio › Recruiting › die Stelle: die ID ist die Zahl in der Adresse.',
    useId: 'Diese ID verwenden', noId: 'In diesem Text ist keine Stellen-ID: fügen Sie die Zahl oder die Adresse der Stelle in Personio ein.',
    chosen: (id, n) => n ? `Gewählt: ${n} (ID ${id})` : `Gewählt: Stellen-ID ${id}`, noPositions: 'Der Feed enthält keine veröffentlichte Stelle.',
    routeOn: 'Unterschiedliche Stellen je nach Antwort', routeLegend: 'Eine Stelle je Antwort', routeQuestion: 'Frage, die die Stelle wählt',
    routeFor: (c) => `Stelle für „${c}“`, routeDefaultOpt: '— die Standardstelle —', routeDefault: (n) => `Jede andere Antwort oder keine: die Standardstelle${n}.`,
    routeNeedQuestion: 'Wählen Sie die Frage.', routeNeedPosition: 'Wählen Sie eine Stelle für eine Antwort.',
    s3: '3. Pflichtzuordnung', s3help: 'Personio braucht für jede Bewerbung Vorname, Nachname und E-Mail.',
    first_name: 'Vorname', last_name: 'Nachname', email: 'E-Mail', chooseField: '— Feld wählen —',
    splitFirst: (l) => `${l} — Vorname(n), getrennt`, splitLast: (l) => `${l} — Nachname, getrennt`,
    s4: '4. Optionale Zuordnung', s4help: 'Jedes weitere Personio-Feld: Telefon, Geschlecht, Geburtstag, eigene Attribute, Dateien, Nachricht, Tags.',
    row: (i) => `Zuordnung ${i}`, target: 'Personio-Feld', chooseTarget: '— Personio-Feld wählen —',
    grpApp: 'Bewerbung', grpAttr: 'Attribute', grpFiles: 'Dateien', attrId: 'Attribut-ID (Zahl)',
    attrIdHelp: 'custom_attribute_<ID> in Personio', attrType: 'Attribut-Typ', valueFrom: 'Wert aus',
    kField: 'einem Funnel-Feld', kConstant: 'einem festen Wert', kTemplate: 'einer Vorlage', field: 'Funnel-Feld',
    grpSplit: 'Aus dem vollen Namen getrennt', grpContact: 'Kontakt', grpQuestions: 'Fragen', grpFileFields: 'Datei-Uploads', grpOther: 'Weitere',
    constant: 'Fester Wert', template: 'Vorlage', templateHelp: 'Felder in {{…}}, z. B. {{answers.q_motivation}}.',
    tr: { trim: 'ohne Leerzeichen an den Enden', lower: 'alles klein', upper: 'alles groß', title: 'Jedes Wort Groß',
      first_name: 'Vorname(n) aus dem vollen Namen', last_name: 'Nachname aus dem vollen Namen', date: 'als JJJJ-MM-TT',
      phone: 'als +49…, international', number: 'als einfache Zahl', options: 'über die Tabelle unten', join: 'mehrere Antworten in einer Zeile' },
    src: { 'event.occurred_at': 'Zeitpunkt der Bewerbung', 'tracking.utm_source': 'Kampagnenquelle (utm_source)', 'tracking.utm_medium': 'Kampagnenmedium (utm_medium)', 'tracking.utm_campaign': 'Kampagnenname (utm_campaign)' },
    kinds: { email: 'eine E-Mail-Adresse', name: 'einen Namen', date: 'ein Datum', phone: 'eine Telefonnummer', number: 'eine Zahl', integer: 'eine ganze Zahl',
      choice: 'eine ihrer Antworten', multi_choice: 'mehrere Antworten', consent: 'Ja oder Nein', text: 'freien Text' },
    cannotFit: (f, s, a, b) => `${f} nimmt ${a}; „${s}“ enthält ${b}.`,
    needsTr: (f, s, a, b, x, l) => `${f} nimmt ${a}; „${s}“ enthält ${b}: Mit der Umwandlung „${x}“ (${l}) passt es.`, addTr: (x) => `„${x}“ hinzufügen`,
    savedWarn: (n) => `Einstellungen gespeichert, mit ${n === 1 ? '1 Warnung' : n + ' Warnungen'}: siehe die markierten Felder.`,
    insertField: 'Feld einfügen', insert: 'Einfügen', transforms: 'Umwandlungen', optionTable: 'Antwort → Personio-Wert',
    optionValue: (c) => `Personio-Wert für „${c}“`, suggested: (v) => `(Vorschlag: ${v})`, acceptSuggestions: (n) => n === 1 ? 'Vorschlag übernehmen' : `${n} Vorschläge übernehmen`, noChoices: 'Dieses Feld hat keine festen Auswahlwerte: Werte gehen wie eingegeben.',
    moveUp: (i) => `Zuordnung ${i} nach oben`, moveDown: (i) => `Zuordnung ${i} nach unten`, remove: (i) => `Zuordnung ${i} entfernen`,
    up: 'Nach oben', down: 'Nach unten', del: 'Entfernen', addRow: 'Zuordnung hinzufügen', keep: 'Antworten ohne Zuordnung an die Nachricht anhängen',
    s5: '5. Speichern und aktivieren', save: 'Einstellungen speichern', saving: 'Wird gespeichert…', saved: 'Einstellungen gespeichert.',
    active: 'Integration aktiv', activeHelpOff: 'Speichern Sie zuerst die Einstellungen, dann aktivieren Sie die Integration.',
    switchedOn: 'Die Integration ist aktiv: neue Bewerbungen gehen an Personio.', switchedOff: 'Die Integration ist aus: es werden keine Bewerbungen gesendet.',
    problems: (n) => n === 1 ? 'Die Einstellungen wurden nicht gespeichert: 1 Problem.' : `Die Einstellungen wurden nicht gespeichert: ${n} Probleme.`,
    needAccount: 'Wählen Sie ein Personio-Konto oder fügen Sie eines hinzu.', needPosition: 'Wählen Sie die Stelle.', needField: 'Wählen Sie ein Feld.',
    needTarget: 'Wählen Sie ein Personio-Feld.', needAttr: 'Geben Sie die ID des Attributs an (eine Zahl).',
    s6: '6. Testbewerbung', s6help: 'Eine Testbewerbung durch die echte Warteschlange, in Sekunden in Personio.',
    sendTest: 'Testbewerbung senden', testDelivered: (sec) => `Die Testbewerbung ist in Personio angekommen, ${sec} s nach dem Senden.`, saveFirst: 'Speichern Sie die Einstellungen, bevor Sie eine Testbewerbung senden.',
    s7: 'Zustellprotokoll', filter: 'Status', all: 'Alle', refresh: 'Aktualisieren', more: 'Mehr anzeigen', retry: 'Erneut senden', retried: 'Erneut gesendet.',
    empty: 'Noch keine Bewerbungen.', when: 'Wann', status: 'Status', details: 'Details', test: 'Test', attempts: (n) => n === 1 ? '1 Versuch' : `${n} Versuche`,
    st: { queued: 'in der Warteschlange', processing: 'in Bearbeitung', retrying: 'neuer Versuch', delivered: 'zugestellt', unconfirmed: 'unbestätigt', failed: 'fehlgeschlagen', parked: 'wartet', dead: 'abgelegt', skipped: 'übersprungen' },
    bannerTitle: (n) => `Das Personio-Konto „${n}“ braucht Aufmerksamkeit`,
    bannerText: 'Personio akzeptiert seine Zugangsdaten nicht mehr (vielleicht wurde der Access Token neu erzeugt). Bewerbungen bleiben erhalten und warten, bis neue Zugangsdaten eingegeben sind.',
    parked: (n) => n === 1 ? '1 Bewerbung wartet.' : `${n} Bewerbungen warten.`,
    newCreds: 'Neue Zugangsdaten eingeben', saveCreds: 'Prüfen und speichern', restored: (n) => `Verbindung wiederhergestellt. ${n === 1 ? '1 wartende Bewerbung wurde' : n + ' wartende Bewerbungen wurden'} erneut gesendet.`,
    planTitle: 'Ab dem Advanced-Tarif verfügbar', planText: 'Der Tarif dieses Workspaces enthält die Personio-Integration nicht. Mit dem Advanced-, Professional- oder Enterprise-Tarif sendet dieser Funnel jede Bewerbung an Personio:',
    planList: ['Bewerbungen in Sekunden in Personio, mit Lebenslauf', 'eigene Zuordnung der Funnel-Felder zu Personio-Feldern', 'ein Zustellprotokoll mit erneutem Senden', 'eine Warnung, wenn Personio die Zugangsdaten ablehnt, ohne dass Bewerbungen verloren gehen'],
    planNeed: 'Was es braucht: ein Tarif-Upgrade im Editor und ein Personio-Konto mit Recruiting (Company ID und Access Token).',
    sessionExpired: 'Ihre Sitzung ist abgelaufen. Laden Sie den Editor neu und versuchen Sie es noch einmal.', failedLoad: 'Die Integration konnte nicht geladen werden.',
    tryAgain: 'Noch einmal versuchen', gender: { male: 'männlich', female: 'weiblich', diverse: 'divers', undefined: 'keine Angabe' },
    err: {
      'invalid-credentials': 'Personio hat diese Company ID und diesen Access Token nicht akzeptiert. Prüfen Sie beide in Personio: Einstellungen › Integrationen › API-Zugangsdaten › „Recruiting-Integrationen“ (neuere Konten: Marketplace › Verbundene Integrationen). Es wurde nichts gespeichert.',
      'recruiting-disabled': 'Recruiting oder seine API ist für diese Personio-Company nicht eingeschaltet. Schalten Sie es in Personio ein und prüfen Sie noch einmal. Es wurde nichts gespeichert.',
      'personio-unavailable': 'Personio war nicht erreichbar. Versuche es gleich noch einmal. Es wurde nichts gespeichert.',
      'personio-rate-limited': 'Personio erlaubt 20 Anfragen pro Minute und Konto; versuchen Sie es in einer Minute noch einmal. Es wurde nichts gespeichert.',
      'feed-unavailable': (s) => `Personio hat keinen öffentlichen Stellen-Feed für „${s}“. Schalten Sie den XML-Feed in Personio ein (Einstellungen › Recruiting › Karriereseite), prüfen Sie die Subdomain, oder fügen Sie die ID oder URL der Stelle ein.`,
      'precondition-failed': 'Jemand anderes hat diese Einstellungen inzwischen gespeichert. Laden Sie die Seite neu, um diese Fassung zu sehen.',
      'connection-in-use': (f) => `${f && f.length > 1 ? 'Die Funnels ' + f.join(', ') + ' senden' : 'Der Funnel ' + ((f && f[0]) || '') + ' sendet'} Bewerbungen über dieses Konto. Schalten Sie dort zuerst die Integration aus oder wählen Sie ein anderes Konto; es wurde nichts entfernt.`,
      'not-retryable': 'Diese Zustellung kann nicht erneut gesendet werden.', 'event-expired': 'Die Bewerbung wird nicht mehr aufbewahrt und kann nicht erneut gesendet werden.',
      'no-integration': 'Speichern Sie die Einstellungen, bevor Sie eine Testbewerbung senden.', unavailable: 'Vorübergehend nicht verfügbar; versuchen Sie es in ein paar Sekunden noch einmal.',
      network: 'Der Dienst war nicht erreichbar. Prüfen Sie die Verbindung und versuchen Sie es noch einmal.', other: 'Etwas ist schiefgegangen.',
    },
  },
};

const CSS = `
:host([hidden]){display:none}
:host{display:block;color:#1f2328;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--accent:#0b57d0;--line:#c9ced6;--muted:#4b5563;--bad:#b3261e;--good:#146c2e;--warn:#7a4b00}
*{box-sizing:border-box}
.wrap{max-width:980px;margin:0 auto}
h2{font-size:1.15rem;margin:0 0 .25rem}
h3{font-size:1rem;margin:.75rem 0 .25rem}
p{margin:.25rem 0 .5rem}
.card{border:1px solid var(--line);border-radius:10px;padding:1rem;margin:0 0 1rem;background:#fff}
.help,.hint{color:var(--muted);font-size:.9rem}
.top{display:flex;gap:1rem;align-items:center;justify-content:space-between;flex-wrap:wrap;margin-bottom:1rem}
.top h2{font-size:1.35rem}
.pill{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-size:.85rem;font-weight:600;border:1px solid currentColor}
.pill.on{color:var(--good)}.pill.off{color:var(--muted)}
label{display:block;font-weight:600;margin:.5rem 0 .2rem}
input,select,textarea,button{font:inherit;color:inherit}
input[type=text],input[type=password],input[type=url],select,textarea{width:100%;max-width:100%;padding:.45rem .55rem;border:1px solid #6b7280;border-radius:6px;background:#fff;min-height:2.5rem}
textarea{min-height:4.5rem;resize:vertical}
[aria-invalid=true]{border-color:var(--bad);box-shadow:0 0 0 1px var(--bad)}
button{cursor:pointer;border:1px solid var(--accent);background:#fff;color:var(--accent);border-radius:6px;padding:.45rem .9rem;min-height:2.5rem;font-weight:600}
button.primary{background:var(--accent);color:#fff}
button.link{border:0;background:none;padding:.2rem;min-height:0;text-decoration:underline}
button:disabled,button[aria-disabled=true]{opacity:.55;cursor:not-allowed}
button.danger{border-color:var(--bad);color:var(--bad)}
:focus-visible{outline:3px solid #e8a200;outline-offset:2px;border-radius:4px}
input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #e8a200;outline-offset:1px}
.row{display:flex;gap:.75rem;flex-wrap:wrap;align-items:flex-start}
.row>*{flex:1 1 14rem;min-width:0}
.row>.auto{flex:0 0 auto;align-self:flex-end}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:.75rem;align-items:center}
.msg{margin:.5rem 0;padding:.5rem .75rem;border-radius:6px;border-left:4px solid}
.msg.bad{border-color:var(--bad);background:#fdecea;color:#5c1410}
.msg.good{border-color:var(--good);background:#e7f4ea;color:#0d3d1b}
.msg.info{border-color:var(--accent);background:#e8f0fe;color:#0b2e6b}
.msg.warn{border-color:var(--warn);background:#fff4e0;color:#5c3800}
.msg:empty{display:none}
.banner{border:2px solid var(--warn);background:#fff4e0;border-radius:10px;padding:1rem;margin-bottom:1rem}
.banner h2{color:#5c3800}
.err{color:var(--bad);font-size:.9rem;margin:.25rem 0 0;padding-left:1.1rem}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.5rem .75rem .75rem;margin:.75rem 0;min-width:0}
legend{font-weight:700;padding:0 .25rem}
fieldset.bad{border-color:var(--bad)}
.checks{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.insert{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}.insert select{flex:1 1 12rem;min-width:0}
.checks label,.inline{display:inline-flex;gap:.35rem;align-items:center;font-weight:400;margin:.2rem 0}
input[type=checkbox],input[type=radio]{width:1.15rem;height:1.15rem;accent-color:var(--accent)}
.opt{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.25rem .75rem;align-items:center}
.opt label{font-weight:400;margin:0}
.rowtools{display:flex;gap:.4rem;flex-wrap:wrap;margin-top:.5rem}
.switch{display:inline-flex;align-items:center;gap:.6rem;border:0;background:none;color:inherit;padding:.25rem;font-weight:600}
.switch .track{width:2.9rem;height:1.6rem;border-radius:999px;background:#6b7280;position:relative;flex:none}
.switch .track::after{content:"";position:absolute;top:.2rem;left:.2rem;width:1.2rem;height:1.2rem;border-radius:50%;background:#fff;transition:left .15s}
.switch[aria-checked=true] .track{background:var(--good)}
.switch[aria-checked=true] .track::after{left:1.5rem}
ol.timeline{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.35rem}
ol.timeline li{padding:.15rem .6rem;border-radius:999px;background:#eef1f5;font-size:.9rem}
ol.timeline li.delivered{background:#e7f4ea;color:var(--good);font-weight:700}
ol.timeline li.failed,ol.timeline li.dead{background:#fdecea;color:var(--bad);font-weight:700}
table{width:100%;border-collapse:collapse;font-size:.95rem}
caption{text-align:left;color:var(--muted);font-size:.9rem;padding:.25rem 0}
th,td{text-align:left;padding:.45rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
.badge{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.85rem;font-weight:700;background:#eef1f5;white-space:nowrap}
.badge.delivered{background:#e7f4ea;color:var(--good)}
.badge.failed,.badge.dead{background:#fdecea;color:var(--bad)}
.badge.parked,.badge.retrying,.badge.unconfirmed{background:#fff4e0;color:var(--warn)}
code{font-size:.8rem;word-break:break-all}
.tag{font-size:.8rem;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 .3rem;margin-left:.3rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.warnlist{color:var(--warn);font-size:.9rem;margin:.25rem 0 0;padding-left:1.1rem}
.summary{border:2px solid var(--bad);border-radius:8px;padding:.5rem .75rem;margin:.5rem 0}
.summary ul{margin:.25rem 0;padding-left:1.2rem}
.summary a{color:var(--bad)}
@media (max-width:600px){
 .card{padding:.75rem}
 thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 table,tbody,tr,td{display:block;width:100%}
 tr{border-bottom:1px solid var(--line);padding:.4rem 0}
 td{border:0;padding:.15rem 0}
 .opt{grid-template-columns:1fr}
}
`;

let sheet = null;
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

// h builds an element: props are properties (value, checked, disabled…),
// attributes (aria-*, for, role…) or listeners (onclick…); children are
// nodes or text, never markup.
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid == null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

// positionLabel is a position as the pickers show it: name, office,
// department and ID.
function positionLabel(p) { return [p.name, p.office, p.department].filter(Boolean).join(' · ') + ` (ID ${p.id})`; }

// routeFrom is the position step's routing state from a saved
// position_routing (null: none): on, the question's field id, answer →
// position, problems.
function routeFrom(pr) {
  return { on: !!pr, field: pr ? String(pr.source || '').replace(/^answers\./, '') : '', positions: pr ? { ...pr.positions } : {}, errors: {} };
}

// positionIdFrom finds a job position ID in what a customer pasted: the
// number itself, or a Personio address (…/positions/1001/…, …/job/1001?…).
export function positionIdFrom(text) {
  const s = String(text || '').trim();
  if (/^\d{1,18}$/.test(s)) return Number(s);
  let m = s.match(/\/(?:positions?|jobs?)\/(\d{1,18})(?:\D|$)/i) || s.match(/[?&#](?:id|position_id|job_position_id|position)=(\d{1,18})(?:\D|$)/i);
  if (m) return Number(m[1]);
  m = s.match(/\d{3,18}/g);
  return m && m.length === 1 ? Number(m[0]) : null;
}

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.title) || 'HTTP ' + status);
    this.status = status;
    this.problem = problem || {};
    this.kind = status === 0 ? 'network' : String(this.problem.type || '').split('/').pop();
  }
}

let keySeq = 0;
const nextKey = () => 'r' + ++keySeq;

// Common German and English words for Personio's option values.
const SYNONYMS = {
  female: ['weiblich', 'frau', 'w', 'f', 'woman'], male: ['mannlich', 'mann', 'm', 'man'],
  diverse: ['divers', 'd', 'x', 'non-binary', 'nichtbinar', 'nonbinary'],
  undefined: ['keine angabe', 'not specified', 'prefer not to say', 'unknown', 'unbekannt'],
};

// fold compares words without case or accents.
const fold = (x) => String(x).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();

// suggestOption: the value an answer's choice means (same word in any case
// or accents, a label, a common word), or ''.
export function suggestOption(choice, values, labels = {}) {
  const c = fold(choice);
  for (const v of values) {
    const words = [v, ...(labels[v] || []), ...(SYNONYMS[v] || [])].map(fold);
    if (words.includes(c)) return v;
  }
  return '';
}

export class PersonioIntegration extends HTMLElement {
  static observedAttributes = ['api-base', 'funnel-id', 'lang'];

  #getToken = null;
  #fields = [];
  #s = null; // state
  #started = false;
  #timer = 0;
  #observer = null;

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this.shadowRoot.adoptedStyleSheets = [styles()];
  }

  get apiBase() { return (this.getAttribute('api-base') || '').replace(/\/+$/, ''); }
  set apiBase(v) { this.setAttribute('api-base', v); }
  get funnelId() { return this.getAttribute('funnel-id') || ''; }
  set funnelId(v) { this.setAttribute('funnel-id', v); }
  get language() { return (this.getAttribute('lang') || 'en').toLowerCase().startsWith('de') ? 'de' : 'en'; }
  set language(v) { this.setAttribute('lang', v); }
  get getToken() { return this.#getToken; }
  set getToken(fn) { this.#getToken = fn; this.#maybeStart(); }
  get fields() { return this.#fields; }
  // Fields set while a saved mapping or the defaults are shown replace the
  // choices offered (unsaved edits are dropped).
  set fields(v) {
    this.#fields = Array.isArray(v) ? v : [];
    const s = this.#s;
    if (s && s.phase === 'ready') { this.#fromMapping(s.integration ? s.integration.mapping : null); this.#renderAll(); } else this.#maybeStart();
  }
  // pollInterval: how often (ms) the delivery log and the connection's
  // health are read again while the page is visible (default 10 s).
  #poll_ms = 10000;
  get pollInterval() { return this.#poll_ms; }
  set pollInterval(v) { this.#poll_ms = Math.max(500, Number(v) || 10000); if (this.#timer) this.#schedule(); }

  connectedCallback() {
    // Properties the editor set before this module was loaded.
    for (const p of ['fields', 'getToken', 'pollInterval', 'apiBase', 'funnelId', 'language']) {
      if (Object.prototype.hasOwnProperty.call(this, p)) { const v = this[p]; delete this[p]; this[p] = v; }
    }
    queueMicrotask(() => this.#maybeStart());
  }
  #schedule() {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => { if (document.visibilityState === 'visible') this.#poll(); }, this.#poll_ms);
  }
  disconnectedCallback() { clearInterval(this.#timer); this.#timer = 0; if (this.#observer) this.#observer.disconnect(); }
  attributeChangedCallback(name, old, val) {
    if (old === val || !this.#s) return;
    if (name === 'lang') { this.#renderAll(); this.#refreshLog(); if (this.#s.general.length && this.#s.raw) this.#showProblems(this.#s.raw, true); }
    else { this.#started = false; this.#maybeStart(); }
  }

  get #t() { return STRINGS[this.language]; }

  #maybeStart() {
    if (this.#started || !this.isConnected || !this.#getToken || !this.funnelId) return;
    this.#started = true;
    this.#load();
  }

  // ---- the API ----------------------------------------------------------

  async #api(method, path, { body, etag } = {}) {
    const headers = { Accept: 'application/json', 'Accept-Language': this.language };
    let res;
    try {
      headers.Authorization = 'Bearer ' + (await this.#getToken());
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (etag) headers['If-Match'] = etag;
      res = await fetch(this.apiBase + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
    } catch {
      throw new ApiError(0, null);
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!res.ok) {
      const e = new ApiError(res.status, data);
      if (e.kind === 'plan-required') this.#planRequired();
      if (res.status === 401) this.#expired();
      throw e;
    }
    return { data, headers: res.headers, status: res.status };
  }

  // say turns a problem into a sentence in the page's language.
  // A deployment's hint (the sandbox's new token) goes first.
  #say(e, arg) {
    if (e.problem && typeof e.problem.hint === 'string' && e.problem.hint) return e.problem.hint;
    const t = (e.ra && this.#t.raErr[e.kind]) || this.#t.err[e.kind];
    if (typeof t === 'function') return t(arg);
    if (t) return t;
    const p = e.problem || {};
    return [p.title, p.detail].filter(Boolean).join(': ') || this.#t.err.other;
  }

  #planRequired() { if (this.#s) { this.#s.phase = 'plan'; this.#renderAll(); } }
  #expired() { if (this.#s) { this.#s.expired = true; this.#renderAll(); } }

  // ---- loading ----------------------------------------------------------

  async #load() {
    const f = encodeURIComponent(this.funnelId);
    this.#s = {
      phase: 'loading', expired: false, connections: [], connectionId: '', adding: false, connMsg: null, connErrors: {},
      subdomain: '', positions: null, positionId: null, positionName: '', posMsg: null, pasteMsg: null, route: routeFrom(null),
      targets: [], transforms: [], fits: {}, statuses: [], retryable: [], required: {}, rows: [], keep: true, region: '',
      integration: null, etag: '', saveMsg: null, problems: [], general: [],
      test: null, log: { items: [], cursor: '', status: '', loading: false, msg: null }, banner: null,
    };
    this.#renderAll();
    try {
      const [conns, targets, integ] = await Promise.all([
        this.#api('GET', '/v1/connections'),
        this.#api('GET', '/v1/personio/targets'),
        this.#api('GET', `/v1/integrations?funnel_id=${f}`),
      ]);
      const s = this.#s;
      s.connections = conns.data.connections || [];
      s.targets = targets.data.targets || [];
      s.transforms = targets.data.transforms || [];
      s.fits = targets.data.fits || {};
      s.kinds = Object.fromEntries((targets.data.kinds || []).map((k) => [k.kind, k]));
      s.statuses = targets.data.statuses || [];
      s.retryable = targets.data.retryable || [];
      const saved = (integ.data.integrations || [])[0];
      if (saved) {
        s.integration = saved;
        s.etag = `"v${saved.version}"`;
        s.connectionId = saved.connection_id;
        s.positionId = saved.job_position_id;
        s.subdomain = saved.career_site || '';
        s.route = routeFrom(saved.position_routing);
      } else if (s.connections.length === 1) {
        s.connectionId = s.connections[0].id;
      }
      s.adding = s.connections.length === 0;
      this.#fromMapping(saved ? saved.mapping : null);
      s.phase = 'ready';
    } catch (e) {
      if (this.#s.phase === 'plan' || this.#s.expired) return this.#ready();
      this.#s.phase = 'error';
      this.#s.loadError = e;
      this.#renderAll();
      return this.#ready();
    }
    this.#renderAll();
    this.#ready();
    // The saved position's name, from its feed.
    if (this.#s.subdomain && this.#s.connectionId) this.#loadPositions({ quiet: true });
    this.#poll(); // the log, and the parked count when the connection needs attention
    this.#schedule();
  }

  #ready() {
    performance.mark('personio-integration:ready');
    this.dispatchEvent(new CustomEvent('personio-ready', { bubbles: true, composed: true }));
  }

  // Whether a transform fits a target kind (the API's table).
  #fits(transform, kind) { return (this.#s.fits[transform] || []).includes(kind); }
  // #takes says what the API's kinds list says of a kind (template, choice, …).
  #takes(kind, what) { return Boolean(this.#s.kinds && this.#s.kinds[kind] && this.#s.kinds[kind][what]); }

  // ---- the funnel's fields ------------------------------------------------

  #sourceOf(f) { return String(f.id).includes('.') ? f.id : (f.type === 'file' ? 'files.' : 'answers.') + f.id; }
  #fieldBySource(src) { return this.#fields.find((f) => this.#sourceOf(f) === src); }
  #labelOf(src) {
    const f = this.#fieldBySource(src);
    return f ? f.label || f.id : src;
  }
  #isNameField(f) { return f.type === 'text' && (f.id === 'contact.full_name' || /name/i.test(f.label || '') || /name/i.test(f.id)); }
  // questions are what the API may check sources and option tables against.
  #questions() {
    const types = ['text', 'email', 'phone', 'number', 'date', 'choice', 'multi_choice', 'consent', 'file'];
    return this.#fields.filter((f) => /^[A-Za-z0-9_-]{1,64}$/.test(String(f.id))).map((f) => {
      const q = { id: String(f.id), type: types.includes(f.type) ? f.type : 'text' };
      if (f.label) q.label = String(f.label).slice(0, 500);
      if (Array.isArray(f.choices) && f.choices.length) q.choices = f.choices.slice(0, 200).map(String);
      return q;
    });
  }

  #fromMapping(m) {
    const s = this.#s;
    const has = (src) => !!this.#fieldBySource(src);
    const find = (re) => this.#fields.find((f) => f.type !== 'file' && re.test((f.label || '') + ' ' + f.id));
    const full = this.#fields.find((f) => f.id === 'contact.full_name') || this.#fields.find((f) => this.#isNameField(f) && /full|voll|ganz/i.test((f.label || '') + f.id));
    s.required = {};
    if (m && m.required) {
      for (const name of REQUIRED) {
        const r = m.required[name] || {};
        const pick = (rule) => rule && rule.source && ((rule.transforms || []).includes(name) ? 'split:' + rule.source : rule.source);
        let v = pick(r);
        if ((!v || !has(v.replace(/^split:/, ''))) && r.fallback) v = pick(r.fallback) || v;
        s.required[name] = { value: v || '', loaded: v || '', rule: r };
      }
      s.rows = (m.optional || []).map((r) => this.#rowFromRule(r));
      s.keep = m.keep_unmapped !== false;
      s.region = m.default_region || '';
      return;
    }
    const first = has('contact.first_name') ? 'contact.first_name' : find(/first|vorname/i) ? this.#sourceOf(find(/first|vorname/i)) : full ? 'split:' + this.#sourceOf(full) : '';
    const last = has('contact.last_name') ? 'contact.last_name' : find(/last|nachname/i) ? this.#sourceOf(find(/last|nachname/i)) : full ? 'split:' + this.#sourceOf(full) : '';
    const mail = has('contact.email') ? 'contact.email' : (this.#fields.find((f) => f.type === 'email') ? this.#sourceOf(this.#fields.find((f) => f.type === 'email')) : '');
    s.required = { first_name: { value: first }, last_name: { value: last }, email: { value: mail } };
    s.rows = [];
    const phone = this.#fields.find((f) => f.id === 'contact.phone') || this.#fields.find((f) => f.type === 'phone');
    if (phone) s.rows.push({ ...this.#blankRow(), target: 'phone', source: this.#sourceOf(phone), transforms: ['phone'] });
  }

  #blankRow() { return { key: nextKey(), target: '', customId: '', type: 'text', kind: 'field', source: '', constant: '', template: '', transforms: [], options: {}, separator: '' }; }

  #rowFromRule(r) {
    const row = this.#blankRow();
    const m = /^custom_attribute_(\d+)$/.exec(r.target || '');
    row.target = m ? 'custom_attribute_{id}' : r.target || '';
    row.customId = m ? m[1] : '';
    row.type = r.type || 'text';
    row.kind = r.template ? 'template' : r.constant != null ? 'constant' : 'field';
    row.source = r.source || '';
    row.constant = r.constant != null ? r.constant : '';
    row.template = r.template || '';
    row.transforms = (r.transforms || []).slice();
    row.options = { ...(r.options || {}) };
    row.separator = r.separator || '';
    row.extra = {};
    for (const k of ['fallback', 'region']) if (r[k] != null) row.extra[k] = r[k];
    return row;
  }

  #targetOf(row) { return this.#s.targets.find((t) => t.id === row.target); }
  #kindOf(row) {
    const t = this.#targetOf(row);
    if (!t) return '';
    return t.id === 'custom_attribute_{id}' ? row.type : t.kind;
  }

  #ruleOf(row) {
    const r = { target: row.target === 'custom_attribute_{id}' ? 'custom_attribute_' + row.customId.trim() : row.target };
    if (row.target === 'custom_attribute_{id}') r.type = row.type;
    if (row.kind === 'constant') r.constant = row.constant;
    else if (row.kind === 'template') r.template = row.template;
    else r.source = row.source;
    const kind = this.#kindOf(row);
    const tr = this.#s.transforms.filter((x) => row.transforms.includes(x) && (!kind || this.#fits(x, kind)));
    if (tr.length && kind !== 'file') r.transforms = tr;
    const opts = Object.fromEntries(Object.entries(row.options).filter(([, v]) => v));
    if (Object.keys(opts).length && row.kind === 'field') r.options = opts;
    if (row.separator) r.separator = row.separator;
    return Object.assign(r, row.extra || {});
  }

  #mapping() {
    const s = this.#s;
    const required = {};
    for (const name of REQUIRED) {
      const q = s.required[name] || {};
      if (q.rule && q.value === q.loaded) { required[name] = q.rule; continue; }
      const v = q.value || '';
      if (!v) { required[name] = {}; continue; }
      const split = v.startsWith('split:');
      const source = v.replace(/^split:/, '');
      required[name] = { source, transforms: name === 'email' ? ['trim', 'lower'] : split ? ['trim', name] : ['trim'] };
    }
    const m = { version: 1, required, optional: s.rows.map((r) => this.#ruleOf(r)), keep_unmapped: s.keep };
    if (s.region) m.default_region = s.region;
    return m;
  }

  // ---- rendering ----------------------------------------------------------

  // #section re-renders one section, keeping the focus (by id) and the
  // caret where they were.
  #section(id, build) {
    const root = this.shadowRoot;
    const old = root.getElementById(id);
    if (!old) return;
    const active = root.activeElement;
    const focusId = active && old.contains(active) ? active.id : '';
    const sel = focusId && /^(text|search|url|password|textarea)$/.test(active.type || '') ? [active.selectionStart, active.selectionEnd] : null;
    const next = h('div', { id, class: old.className });
    const append = next.append.bind(next);
    next.append = (...kids) => append(...kids.flat(Infinity).filter((k) => k != null && k !== false));
    build(next);
    old.replaceWith(next);
    if (focusId) {
      const el = root.getElementById(focusId);
      if (el) {
        el.focus({ preventScroll: true });
        if (sel && el.setSelectionRange) try { el.setSelectionRange(sel[0], sel[1]); } catch { /* not a text field */ }
      }
    }
  }

  #renderAll() {
    const s = this.#s, t = this.#t, root = this.shadowRoot;
    if (!s) return;
    root.replaceChildren();
    const wrap = h('div', { class: 'wrap', lang: this.language });
    root.append(wrap);
    if (s.expired) { wrap.append(h('div', { class: 'card' }, h('p', { class: 'msg bad', role: 'alert' }, t.sessionExpired))); return; }
    if (s.phase === 'loading') { wrap.append(h('p', { class: 'card', role: 'status' }, t.loading)); return; }
    if (s.phase === 'plan') { wrap.append(this.#planPanel()); return; }
    if (s.phase === 'error') {
      wrap.append(h('div', { class: 'card' }, h('p', { class: 'msg bad', role: 'alert' }, t.failedLoad, ' ', this.#say(s.loadError)),
        h('button', { type: 'button', onclick: () => { this.#started = false; this.#maybeStart(); } }, t.tryAgain)));
      return;
    }
    const enabled = !!(s.integration && s.integration.enabled);
    wrap.append(
      h('div', { class: 'top' }, h('div', null, h('h2', { id: 'title' }, t.title, ' ', h('span', { class: 'pill ' + (enabled ? 'on' : 'off'), id: 'pill' }, enabled ? t.on : t.off)), h('p', { class: 'help' }, t.intro))),
      h('div', { id: 'banner', 'aria-live': 'polite' }),
      h('section', { class: 'card', 'aria-labelledby': 'h-account' }, h('div', { id: 'account' })),
      h('section', { class: 'card', 'aria-labelledby': 'h-position' }, h('div', { id: 'position' })),
      h('section', { class: 'card', 'aria-labelledby': 'h-required' }, h('div', { id: 'required' })),
      h('section', { class: 'card', 'aria-labelledby': 'h-optional' }, h('div', { id: 'optional' })),
      h('section', { class: 'card', 'aria-labelledby': 'h-save' }, h('div', { id: 'save' })),
      h('section', { class: 'card', 'aria-labelledby': 'h-test' }, h('div', { id: 'test' })),
      h('section', { class: 'card', 'aria-labelledby': 'h-log' }, h('div', { id: 'log' })),
    );
    for (const id of ['banner', 'account', 'position', 'required', 'optional', 'save', 'test', 'log']) this.#update(id);
  }

  #update(id) {
    const b = { banner: this.#banner, account: this.#account, position: this.#position, required: this.#requiredSec, optional: this.#optional, save: this.#save, test: this.#test, log: this.#log }[id];
    this.#section(id, (el) => b.call(this, el));
  }

  // #msg shows a message, put into words now, so that it follows the
  // language: {kind, key, args} (a sentence of STRINGS), {kind, err, arg}
  // (a problem) or {kind, text} (a sentence the API gave).
  #msg(m) {
    if (!m) return null;
    const t = this.#t;
    const text = m.key ? (typeof t[m.key] === 'function' ? t[m.key](...(m.args || [])) : t[m.key]) : m.err ? this.#say(m.err, m.arg) : m.text;
    return h('p', { class: 'msg ' + m.kind, role: m.kind === 'bad' ? 'alert' : 'status' }, text);
  }

  #planPanel() {
    const t = this.#t;
    return h('section', { class: 'card', 'aria-labelledby': 'plan-title', id: 'plan' },
      h('h2', { id: 'plan-title' }, t.planTitle), h('p', null, t.planText),
      h('ul', null, t.planList.map((x) => h('li', null, x))), h('p', { class: 'help' }, t.planNeed));
  }

  // 8. Connection health: the funnel's connection needs attention.
  #banner(el) {
    const s = this.#s, t = this.#t;
    const c = s.connections.find((x) => x.id === s.connectionId);
    const b = s.banner || {};
    if (b.restored) el.append(this.#msg(b.restored));
    if (!c || c.status !== 'needs_attention') return;
    el.append(h('div', { class: 'banner', role: 'region', 'aria-labelledby': 'banner-title' },
      h('h2', { id: 'banner-title' }, t.bannerTitle(c.name)), h('p', null, t.bannerText),
      b.parked ? h('p', { id: 'banner-parked' }, t.parked(b.parked)) : null,
      h('form', { id: 'creds-form', onsubmit: (e) => { e.preventDefault(); this.#replaceCredentials(c); }, novalidate: true },
        h('h3', null, t.newCreds), h('p', { class: 'help', id: 'creds-where' }, t.where),
        h('div', { class: 'row' },
          h('div', null, h('label', { for: 'creds-company' }, t.companyId), h('input', { type: 'text', id: 'creds-company', inputmode: 'numeric', autocomplete: 'off', value: b.company ?? c.company_id, oninput: (e) => { b.company = e.target.value; s.banner = b; } })),
          h('div', null, h('label', { for: 'creds-token' }, t.token), h('input', { type: 'password', id: 'creds-token', autocomplete: 'new-password', 'aria-describedby': 'creds-where' }))),
        this.#msg(b.msg),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'creds-save', disabled: b.busy }, b.busy ? t.checking : t.saveCreds)))));
  }

  async #replaceCredentials(c) {
    const s = this.#s, t = this.#t;
    const input = this.shadowRoot.getElementById('creds-token');
    const token = input.value;
    input.value = '';
    const b = (s.banner = { ...(s.banner || {}), busy: true, msg: null });
    s.healthSeq = (s.healthSeq || 0) + 1; // a health check under way now is out of date
    const company = (b.company ?? c.company_id).trim();
    this.#update('banner');
    try {
      if (!token) throw Object.assign(new Error(), { local: 'tokenMissing' });
      const res = await this.#api('PUT', `/v1/connections/${encodeURIComponent(c.id)}/credentials`, { body: { company_id: company, access_token: token } });
      const n = Number(res.headers.get('X-Resumed-Deliveries') || 0);
      s.healthSeq++;
      const i = s.connections.findIndex((x) => x.id === c.id);
      if (i >= 0) s.connections[i] = res.data;
      s.banner = { restored: { kind: 'good', key: 'restored', args: [n] } };
      this.#update('banner');
      this.#update('account');
      this.shadowRoot.getElementById('banner').querySelector('.msg')?.setAttribute('tabindex', '-1');
      this.shadowRoot.getElementById('banner').querySelector('.msg')?.focus();
      this.#refreshLog();
    } catch (e) {
      s.banner = { ...b, busy: false, msg: e.local ? { kind: 'bad', key: e.local } : { kind: 'bad', err: e } };
      this.#update('banner');
      this.shadowRoot.getElementById('creds-token')?.focus();
    }
  }

  // 1. Personio account.
  #account(el) {
    const s = this.#s, t = this.#t;
    el.append(h('h2', { id: 'h-account' }, t.s1), h('p', { class: 'help' }, t.s1help));
    if (s.connections.length) {
      el.append(h('label', { for: 'connection' }, t.account),
        h('select', { id: 'connection', 'aria-invalid': s.connErrors.connection ? 'true' : null, 'aria-describedby': s.connErrors.connection ? 'connection-err' : null,
          onchange: (e) => { s.connectionId = e.target.value; s.positions = null; this.#update('banner'); this.#update('position'); this.#update('save'); } },
        h('option', { value: '' }, t.chooseAccount),
        s.connections.map((c) => h('option', { value: c.id, selected: c.id === s.connectionId },
          `${c.name} (${t.company(c.company_id)})${c.status === 'needs_attention' ? ' — ' + t.needsAttention : ''}`))),
        s.connErrors.connection ? h('p', { class: 'err', id: 'connection-err' }, s.connErrors.connection) : null);
    }
    const chosen = s.connections.find((c) => c.id === s.connectionId);
    if (chosen && s.renaming) {
      el.append(h('form', { id: 'rename-form', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.#renameConnection(chosen); } },
        h('label', { for: 'acc-rename' }, t.newName),
        h('input', { type: 'text', id: 'acc-rename', value: s.renaming.name, maxlength: 100, autocomplete: 'off', oninput: (ev) => { s.renaming.name = ev.target.value; } }),
        h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'rename-save' }, t.saveName),
          h('button', { type: 'button', id: 'rename-cancel', onclick: () => { s.renaming = null; this.#update('account'); this.shadowRoot.getElementById('rename-account').focus(); } }, t.cancel))));
    }
    if (s.connMsg) el.append(this.#msg(s.connMsg));
    if (s.connWarn) el.append(this.#msg(s.connWarn));
    if (!s.adding) {
      el.append(h('div', { class: 'actions' },
        // On the account chosen when pressed.
        s.connections.length && !s.renaming ? h('button', { type: 'button', id: 'rename-account', onclick: () => {
          const c = s.connections.find((x) => x.id === s.connectionId);
          if (!c) return this.shadowRoot.getElementById('connection').focus();
          s.renaming = { name: c.name }; s.connMsg = null; s.connWarn = null; this.#update('account'); this.shadowRoot.getElementById('acc-rename').focus();
        } }, t.renameAccount) : null,
        s.connections.length ? h('button', { type: 'button', id: 'remove-account', onclick: () => {
          const c = s.connections.find((x) => x.id === s.connectionId);
          if (!c) return this.shadowRoot.getElementById('connection').focus();
          this.#removeConnection(c);
        } }, t.removeAccount) : null,
        h('button', { type: 'button', id: 'add-account', 'aria-expanded': 'false', onclick: () => { s.adding = true; s.connMsg = null; s.connWarn = null; this.#update('account'); this.shadowRoot.getElementById('acc-name').focus(); } }, t.addAccount)));
      if (chosen) el.append(this.#readAccess(chosen));
      return;
    }
    const f = s.newConn || (s.newConn = { name: '', company: '' });
    const e = s.newErrors || {};
    const field = (id, label, input, help) => h('div', null, h('label', { for: id }, label), input, help ? h('p', { class: 'hint', id: id + '-help' }, help) : null,
      e[id] ? h('p', { class: 'err', id: id + '-err' }, e[id]) : null);
    const described = (id, help) => [help ? id + '-help' : '', e[id] ? id + '-err' : ''].filter(Boolean).join(' ') || null;
    el.append(h('form', { id: 'account-form', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.#createConnection(); } },
      h('h3', null, t.addAccount),
      field('acc-name', t.accName, h('input', { type: 'text', id: 'acc-name', value: f.name, autocomplete: 'off', maxlength: 100, 'aria-describedby': described('acc-name', true), 'aria-invalid': e['acc-name'] ? 'true' : null, oninput: (ev) => { f.name = ev.target.value; } }), t.accNameHelp),
      h('p', { class: 'help', id: 'acc-where' }, t.where),
      h('div', { class: 'row' },
        field('acc-company', t.companyId, h('input', { type: 'text', id: 'acc-company', value: f.company, inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': described('acc-company') || 'acc-where', 'aria-invalid': e['acc-company'] ? 'true' : null, oninput: (ev) => { f.company = ev.target.value; } })),
        field('acc-token', t.token, h('input', { type: 'password', id: 'acc-token', autocomplete: 'new-password', 'aria-describedby': described('acc-token', true), 'aria-invalid': e['acc-token'] ? 'true' : null }), t.tokenHelp)),
      this.#msg(s.addMsg),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: 'check-connection', disabled: s.checking }, s.checking ? t.checking : t.check),
        s.connections.length ? h('button', { type: 'button', id: 'cancel-account', onclick: () => { s.adding = false; s.addMsg = null; s.newErrors = {}; this.#update('account'); this.shadowRoot.getElementById('add-account').focus(); } }, t.cancel) : null)));
  }

  // Read access (Personio's API v2) of the chosen account: set, replace,
  // remove. The secret field is read once and emptied, never refilled.
  #readAccess(c) {
    const s = this.#s, t = this.#t;
    const r = s.ra && s.ra.id === c.id ? s.ra : (s.ra = { id: c.id, clientId: '', errors: {} });
    const ra = c.read_access || {};
    const e = r.errors;
    const field = (id, label, input) => h('div', null, h('label', { for: id }, label), input, e[id] ? h('p', { class: 'err', id: id + '-err' }, typeof t[e[id]] === 'string' ? t[e[id]] : e[id]) : null);
    const attrs = (id) => ({ id, autocomplete: 'off', 'aria-invalid': e[id] ? 'true' : null, 'aria-describedby': e[id] ? id + '-err' : 'ra-help' });
    return h('form', { id: 'ra-form', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.#putReadAccess(c); } },
      h('h3', { id: 'h-ra' }, t.ra), h('p', { class: 'help', id: 'ra-help' }, t.raHelp),
      h('p', { id: 'ra-state' }, ra.configured ? t.raSet(this.#time(ra.last_checked_at)) : t.raNone),
      h('div', { class: 'row' },
        field('ra-client', t.clientId, h('input', { type: 'text', ...attrs('ra-client'), value: r.clientId, oninput: (ev) => { r.clientId = ev.target.value; } })),
        field('ra-secret', t.clientSecret, h('input', { type: 'password', ...attrs('ra-secret'), autocomplete: 'new-password' }))),
      this.#msg(r.msg),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', id: 'ra-save', disabled: r.busy }, r.busy ? t.checking : ra.configured ? t.raReplace : t.raSave),
        ra.configured ? h('button', { type: 'button', class: 'danger', id: 'ra-remove', disabled: r.busy, onclick: () => this.#deleteReadAccess(c) }, t.raRemove) : null));
  }

  async #putReadAccess(c) {
    const s = this.#s, r = s.ra, root = this.shadowRoot;
    const input = root.getElementById('ra-secret');
    const secret = input.value;
    input.value = '';
    r.msg = null;
    r.errors = {};
    if (!r.clientId.trim() || !secret) {
      if (!r.clientId.trim()) r.errors['ra-client'] = 'raMissing';
      if (!secret) r.errors['ra-secret'] = 'raMissing';
      return this.#raDone(Object.keys(r.errors)[0]);
    }
    r.busy = true;
    this.#update('account');
    try {
      const res = await this.#api('PUT', `/v1/connections/${encodeURIComponent(c.id)}/read-access`, { body: { client_id: r.clientId.trim(), client_secret: secret } });
      this.#raSaved(res.data, 'raSaved');
    } catch (e) {
      this.#raFailed(e);
    }
  }

  async #deleteReadAccess(c) {
    const r = this.#s.ra;
    r.msg = null;
    r.errors = {};
    r.busy = true;
    this.#update('account');
    try {
      this.#raSaved((await this.#api('DELETE', `/v1/connections/${encodeURIComponent(c.id)}/read-access`)).data, 'raRemoved');
    } catch (e) {
      this.#raFailed(e);
    }
  }

  #raSaved(conn, key) {
    const s = this.#s;
    const i = s.connections.findIndex((x) => x.id === conn.id);
    if (i >= 0) s.connections[i] = conn;
    s.ra = { id: conn.id, clientId: '', errors: {}, msg: { kind: 'good', key } };
    this.#raDone('ra-save');
  }

  // A refusal in words: at the field the API names, or below the fields.
  #raFailed(e) {
    const r = this.#s.ra;
    for (const x of (e.problem && e.problem.errors) || []) {
      const id = /client_secret$/.test(x.path || '') ? 'ra-secret' : 'ra-client';
      r.errors[id] = x.message;
    }
    e.ra = true;
    if (!Object.keys(r.errors).length) r.msg = { kind: 'bad', err: e };
    this.#raDone(Object.keys(r.errors)[0] || 'ra-secret');
  }

  #raDone(focus) {
    this.#s.ra.busy = false;
    this.#update('account');
    const el = this.shadowRoot.getElementById(focus);
    if (el) el.focus();
  }

  async #renameConnection(c) {
    const s = this.#s, t = this.#t;
    const name = (s.renaming.name || '').trim();
    if (!name) { s.connMsg = { kind: 'bad', key: 'nameMissing' }; this.#update('account'); this.shadowRoot.getElementById('acc-rename').focus(); return; }
    try {
      const res = await this.#api('PATCH', `/v1/connections/${encodeURIComponent(c.id)}`, { body: { name } });
      const i = s.connections.findIndex((x) => x.id === c.id);
      if (i >= 0) s.connections[i] = res.data;
      s.renaming = null;
      s.connMsg = { kind: 'good', key: 'renamed', args: [res.data.name] };
      this.#update('account');
      this.#update('banner');
      this.shadowRoot.getElementById('rename-account').focus();
    } catch (e) {
      s.connMsg = { kind: 'bad', err: e };
      this.#update('account');
      this.shadowRoot.getElementById('acc-rename').focus();
    }
  }

  async #removeConnection(c) {
    const s = this.#s;
    s.connWarn = null;
    try {
      await this.#api('DELETE', `/v1/connections/${encodeURIComponent(c.id)}`);
      s.connections = s.connections.filter((x) => x.id !== c.id);
      if (s.connectionId === c.id) s.connectionId = '';
      s.adding = s.connections.length === 0;
      s.connMsg = { kind: 'good', key: 'removed', args: [c.name] };
      for (const id of ['account', 'banner', 'position', 'save']) this.#update(id);
      const next = this.shadowRoot.getElementById(s.connections.length ? 'connection' : 'acc-name');
      if (next) next.focus();
    } catch (e) {
      const funnels = e.problem && e.problem.params && Array.isArray(e.problem.params.funnels) ? e.problem.params.funnels : [];
      s.connMsg = { kind: 'bad', err: e, arg: funnels };
      this.#update('account');
      this.shadowRoot.getElementById('remove-account').focus();
    }
  }

  async #createConnection() {
    const s = this.#s, t = this.#t, root = this.shadowRoot;
    const input = root.getElementById('acc-token');
    const token = input.value;
    input.value = ''; // the token leaves the page with this request, and only then
    const f = s.newConn;
    const errors = {};
    if (!f.name.trim()) errors['acc-name'] = t.nameMissing;
    if (!/^\d{1,18}$/.test(f.company.trim())) errors['acc-company'] = t.companyInvalid;
    if (!token) errors['acc-token'] = t.tokenMissing;
    s.newErrors = errors;
    s.addMsg = null;
    if (Object.keys(errors).length) {
      this.#update('account');
      root.getElementById(Object.keys(errors)[0]).focus();
      return;
    }
    s.checking = true;
    this.#update('account');
    try {
      const res = await this.#api('POST', '/v1/connections', { body: { name: f.name.trim(), company_id: f.company.trim(), access_token: token } });
      const twin = s.connections.find((c) => c.company_id === res.data.company_id);
      s.connections.push(res.data);
      // A second account is added beside the chosen one, not chosen.
      const chose = !s.connectionId;
      if (chose) s.connectionId = res.data.id;
      s.adding = false;
      s.newConn = null;
      s.connErrors = {};
      s.connMsg = { kind: 'good', key: chose ? 'connected' : 'connectedBeside', args: [res.data.name] };
      s.connWarn = twin ? { kind: 'warn', key: 'sameCompany', args: [twin.name, res.data.company_id] } : null;
      s.checking = false;
      this.#update('account');
      this.#update('banner');
      this.#update('position');
      root.getElementById('connection').focus();
    } catch (e) {
      s.checking = false;
      s.addMsg = { kind: 'bad', err: e };
      this.#update('account');
      root.getElementById('acc-token').focus();
    }
  }

  // 2. Job position.
  #position(el) {
    const s = this.#s, t = this.#t;
    el.append(h('h2', { id: 'h-position' }, t.s2), h('p', { class: 'help' }, t.s2help));
    // The watch found the saved position unpublished: say so where the position is chosen.
    const gone = s.integration && (s.integration.issues || []).find((x) => x.kind === 'position_unpublished');
    if (gone) el.append(h('p', { class: 'msg warn', id: 'position-issue', role: 'status' }, gone.message));
    el.append(h('form', { id: 'feed-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.#loadPositions(); } },
      h('h3', null, t.fromFeed),
      h('div', { class: 'row' },
        h('div', null, h('label', { for: 'subdomain' }, t.subdomain), h('input', { type: 'text', id: 'subdomain', value: s.subdomain, autocomplete: 'off', 'aria-describedby': 'subdomain-help', oninput: (e) => { s.subdomain = e.target.value; } })),
        h('div', { class: 'auto' }, h('button', { type: 'submit', id: 'load-positions', disabled: !s.connectionId || s.posBusy }, t.loadPositions))),
      h('p', { class: 'hint', id: 'subdomain-help' }, t.subdomainHelp)));
    if (s.posMsg) el.append(this.#msg(s.posMsg));
    if (s.positions) {
      el.append(h('label', { for: 'position-select' }, t.position),
        h('select', { id: 'position-select', onchange: (e) => { const id = Number(e.target.value) || null; const p = s.positions.find((x) => x.id === id); s.positionId = id; s.positionName = p ? p.name : ''; s.posErrors = null; s.pasteMsg = null; this.#update('position'); } },
          h('option', { value: '' }, t.choosePosition),
          s.positions.map((p) => h('option', { value: p.id, selected: p.id === s.positionId }, positionLabel(p)))));
    }
    el.append(h('form', { id: 'paste-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.#pastePosition(); } },
      h('div', { class: 'row' },
        h('div', null, h('label', { for: 'position-paste' }, t.orPaste), h('input', { type: 'text', id: 'position-paste', autocomplete: 'off', 'aria-describedby': 'paste-help', value: s.paste || '', oninput: (e) => { s.paste = e.target.value; } })),
        h('div', { class: 'auto' }, h('button', { type: 'submit', id: 'use-id' }, t.useId))),
      h('p', { class: 'hint', id: 'paste-help' }, t.pasteHelp)));
    if (s.pasteMsg) el.append(this.#msg(s.pasteMsg));
    if (s.posErrors) el.append(h('p', { class: 'err', id: 'position-err' }, s.posErrors));
    if (s.positionId) el.append(h('p', { id: 'position-chosen', role: 'status' }, h('strong', null, t.chosen(s.positionId, s.positionName || (s.positions || []).find((p) => p.id === s.positionId)?.name))));
    this.#routing(el);
  }

  // Routing by answer: the question (a choice question), a position for
  // each of its choices (from the feed, or typed), the default named.
  #routing(el) {
    const s = this.#s, t = this.#t, r = s.route, $ = (id) => this.shadowRoot.getElementById(id);
    const qs = this.#fields.filter((f) => /^(multi_)?choice$/.test(f.type) && !String(f.id).includes('.'));
    if (!qs.length && !r.on) return;
    const err = (id, m) => m && h('p', { class: 'err', id: id + '-err' }, m);
    const inv = (id, m) => ({ id, 'aria-invalid': m ? 'true' : null, 'aria-describedby': m ? id + '-err' : null });
    el.append(h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'route-on', checked: r.on,
      onchange: (e) => { r.on = e.target.checked; this.#update('position'); $(r.on ? 'route-question' : 'route-on').focus(); } }), t.routeOn));
    if (!r.on) return;
    const q = qs.find((f) => String(f.id) === r.field), name = (s.positions || []).find((p) => p.id === s.positionId)?.name || s.positionName;
    el.append(h('fieldset', { id: 'route', class: r.errors.source || r.errors.positions ? 'bad' : null }, h('legend', null, t.routeLegend),
      h('label', { for: 'route-question' }, t.routeQuestion),
      h('select', { ...inv('route-question', r.errors.source || r.errors.positions), onchange: (e) => { r.field = e.target.value; r.positions = {}; r.errors = {}; this.#update('position'); $('route-question').focus(); } },
        h('option', { value: '' }, '—'), qs.map((f) => h('option', { value: f.id, selected: f === q }, f.label || f.id))),
      err('route-question', r.errors.source || r.errors.positions),
      q && (q.choices || []).map(String).map((c, i) => {
        const id = 'route-pos-' + i, cur = r.positions[c], m = r.errors.answers?.[c];
        const set = (v) => { if (v) r.positions[c] = v; else delete r.positions[c]; };
        const list = (s.positions || []).concat(cur && !(s.positions || []).some((p) => p.id === cur) ? [{ id: cur }] : []);
        return [h('label', { for: id }, t.routeFor(c)), s.positions
          ? h('select', { ...inv(id, m), onchange: (e) => set(Number(e.target.value)) }, h('option', { value: '' }, t.routeDefaultOpt), list.map((p) => h('option', { value: p.id, selected: p.id === cur }, positionLabel(p))))
          : h('input', { ...inv(id, m), type: 'text', inputmode: 'numeric', value: cur || '', oninput: (e) => set(positionIdFrom(e.target.value)) }), err(id, m)];
      }),
      q && h('p', { class: 'hint', id: 'route-default' }, t.routeDefault(s.positionId ? `, ${name ? name + ' ' : ''}(ID ${s.positionId})` : ''))));
  }

  // The routing table to save (none when off); local problems go to local.
  #routeBody(local) {
    const r = this.#s.route, t = this.#t;
    if (!r.on) return;
    if (!r.field || !Object.keys(r.positions).length) local.push({ path: '/position_routing/' + (r.field ? 'positions' : 'source'), message: r.field ? t.routeNeedPosition : t.routeNeedQuestion });
    return { source: 'answers.' + r.field, positions: { ...r.positions } };
  }

  // A problem of the routing table (/position_routing/…) at its control: the id to focus.
  #routeProblem(path, message) {
    const r = this.#s.route, [member, ...rest] = path.split('/').slice(2);
    const c = rest.join('/').replace(/~1/g, '/').replace(/~0/g, '~'), i = (this.#fields.find((f) => String(f.id) === r.field)?.choices || []).map(String).indexOf(c);
    if (c && i >= 0) { r.errors.answers = { ...r.errors.answers, [c]: message }; return 'route-pos-' + i; }
    r.errors[member === 'positions' ? 'positions' : 'source'] = message;
    return r.on ? 'route-question' : 'route-on';
  }

  // quiet: no focus, no message (after a reload).
  async #loadPositions({ quiet = false } = {}) {
    const s = this.#s;
    const sub = s.subdomain.trim().replace(/^https?:\/\//, '').replace(/\.jobs\.personio\.(de|com).*$/, '');
    s.subdomain = sub;
    s.posMsg = null;
    s.pasteMsg = null;
    if (!sub) {
      s.posMsg = { kind: 'bad', key: 'subdomainEmpty' };
      this.#update('position');
      this.shadowRoot.getElementById('subdomain').focus();
      return;
    }
    s.posBusy = true;
    this.#update('position');
    try {
      const res = await this.#api('GET', `/v1/connections/${encodeURIComponent(s.connectionId)}/positions?subdomain=${encodeURIComponent(sub)}&language=${this.language}`);
      s.positions = res.data.positions || [];
      if (!s.positions.length && !quiet) s.posMsg = { kind: 'info', key: 'noPositions' };
      s.posBusy = false;
      this.#update('position');
      if (!quiet) this.shadowRoot.getElementById(s.positions.length ? 'position-select' : 'subdomain').focus();
    } catch (e) {
      s.posBusy = false;
      s.positions = null;
      if (!quiet) s.posMsg = e.kind === 'validation' ? { kind: 'bad', key: 'subdomainInvalid' } : { kind: 'bad', err: e, arg: sub };
      this.#update('position');
      if (!quiet) this.shadowRoot.getElementById('subdomain').focus();
    }
  }

  #pastePosition() {
    const s = this.#s, t = this.#t;
    const id = positionIdFrom(s.paste);
    if (!id) {
      s.pasteMsg = { kind: 'bad', key: 'noId' };
    } else {
      s.pasteMsg = null;
      s.posMsg = null;
      s.positionId = id;
      s.positionName = (s.positions || []).find((p) => p.id === id)?.name || '';
      s.paste = '';
      s.posErrors = null;
    }
    this.#update('position');
    this.shadowRoot.getElementById('position-paste').focus();
  }

  // fieldOptions lists the funnel's fields as <option>s, grouped.
  #fieldOptions(selected, { files = false, split = null, extra = false } = {}) {
    const t = this.#t;
    const fields = this.#fields.filter((f) => (f.type === 'file') === files);
    const contact = fields.filter((f) => String(f.id).startsWith('contact.'));
    const other = fields.filter((f) => !String(f.id).startsWith('contact.'));
    const opt = (value, label) => h('option', { value, selected: value === selected }, label);
    const groups = [];
    if (contact.length) groups.push(h('optgroup', { label: t.grpContact }, contact.map((f) => opt(this.#sourceOf(f), f.label || f.id))));
    if (other.length) groups.push(h('optgroup', { label: files ? t.grpFileFields : t.grpQuestions }, other.map((f) => opt(this.#sourceOf(f), f.label || f.id))));
    if (split) {
      const names = this.#fields.filter((f) => this.#isNameField(f));
      if (names.length) groups.push(h('optgroup', { label: t.grpSplit }, names.map((f) => opt('split:' + this.#sourceOf(f), split(f.label || f.id)))));
    }
    if (extra) groups.push(h('optgroup', { label: t.grpOther }, EXTRA_SOURCES.map((x) => opt(x, (t.src && t.src[x]) || x))));
    // A source the funnel no longer has stays visible, so nothing changes silently.
    const known = new Set(groups.flatMap((g) => [...g.querySelectorAll('option')].map((o) => o.value)));
    if (selected && !known.has(selected)) groups.unshift(opt(selected, selected));
    return groups;
  }

  // 3. Required assignment.
  #requiredSec(el) {
    const s = this.#s, t = this.#t;
    el.append(h('h2', { id: 'h-required' }, t.s3), h('p', { class: 'help' }, t.s3help));
    const grid = h('div', { class: 'row' });
    for (const name of REQUIRED) {
      const q = s.required[name] || (s.required[name] = { value: '' });
      const errs = this.#problemsAt('required.' + name);
      const id = 'req-' + name;
      grid.append(h('div', null, h('label', { for: id }, t[name]),
        h('select', { id, 'aria-invalid': errs.length ? 'true' : null, 'aria-describedby': errs.length ? id + '-err' : null, onchange: (e) => {
          q.value = e.target.value;
          if (errs.length) { this.#dropProblems('required.' + name); this.#update('required'); this.#update('save'); }
        } },
          h('option', { value: '' }, t.chooseField),
          this.#fieldOptions(q.value, { split: name === 'first_name' ? t.splitFirst : name === 'last_name' ? t.splitLast : null })),
        errs.length ? h('ul', { class: 'err', id: id + '-err' }, errs.map((p) => h('li', null, p.message))) : null,
        this.#warningsAt('required.' + name)));
    }
    el.append(grid);
  }

  // 4. Optional assignment.
  #optional(el) {
    const s = this.#s, t = this.#t;
    el.append(h('h2', { id: 'h-optional' }, t.s4), h('p', { class: 'help' }, t.s4help));
    s.rows.forEach((row, i) => el.append(this.#rowEl(row, i)));
    el.append(h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'add-row', onclick: () => { const r = this.#blankRow(); s.rows.push(r); this.#update('optional'); this.shadowRoot.getElementById(r.key + '-target').focus(); } }, t.addRow)),
    h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'keep', checked: s.keep, onchange: (e) => { s.keep = e.target.checked; } }), t.keep));
  }

  #rowEl(row, i) {
    const s = this.#s, t = this.#t, n = i + 1, k = row.key;
    const errs = this.#problemsAt(`optional[${i}]`);
    const at = (suffix) => errs.filter((p) => p.path.startsWith(`optional[${i}]` + suffix));
    const invalid = (suffix) => at(suffix).length ? 'true' : null;
    const rerender = () => this.#update('optional');
    const target = this.#targetOf(row);
    const kind = this.#kindOf(row);
    const byPlace = (place) => s.targets.filter((x) => x.place === place && !x.required);
    const tOpt = (x) => h('option', { value: x.id, selected: x.id === row.target }, this.#targetLabel(x));
    const fs = h('fieldset', { id: k, class: errs.length ? 'bad' : null, 'aria-describedby': errs.length ? k + '-err' : null,
      onchange: () => { if (errs.length) { this.#dropProblems(`optional[${i}]`); this.#update('optional'); this.#update('save'); } } },
      h('legend', null, t.row(n), target ? ' · ' + this.#targetLabel(target) : ''));
    const grid = h('div', { class: 'row' });
    grid.append(h('div', null, h('label', { for: k + '-target' }, t.target),
      h('select', { id: k + '-target', 'aria-invalid': invalid('.target'), onchange: (e) => { row.target = e.target.value; row.transforms = row.transforms.filter((x) => this.#fits(x, this.#kindOf(row))); if (this.#kindOf(row) === 'file') row.kind = 'field'; rerender(); } },
        h('option', { value: '' }, t.chooseTarget),
        h('optgroup', { label: t.grpApp }, byPlace('application').map(tOpt)),
        h('optgroup', { label: t.grpAttr }, byPlace('attribute').map(tOpt)),
        h('optgroup', { label: t.grpFiles }, byPlace('files').map(tOpt)))));
    if (row.target === 'custom_attribute_{id}') {
      grid.append(
        h('div', null, h('label', { for: k + '-attr' }, t.attrId), h('input', { type: 'text', id: k + '-attr', inputmode: 'numeric', value: row.customId, 'aria-describedby': k + '-attr-help', 'aria-invalid': invalid('.target'), oninput: (e) => { row.customId = e.target.value; } }),
          h('p', { class: 'hint', id: k + '-attr-help' }, t.attrIdHelp)),
        h('div', null, h('label', { for: k + '-type' }, t.attrType), h('select', { id: k + '-type', 'aria-invalid': invalid('.type'), onchange: (e) => { row.type = e.target.value; rerender(); } },
          (target.values || []).map((v) => h('option', { value: v, selected: v === row.type }, v)))));
    }
    if (kind && kind !== 'file') {
      const kinds = [['field', t.kField], ['constant', t.kConstant]];
      if (this.#takes(kind, 'template')) kinds.push(['template', t.kTemplate]);
      grid.append(h('div', null, h('label', { for: k + '-kind' }, t.valueFrom), h('select', { id: k + '-kind', onchange: (e) => { row.kind = e.target.value; rerender(); } },
        kinds.map(([v, l]) => h('option', { value: v, selected: v === row.kind }, l)))));
    }
    if (row.kind === 'field' || kind === 'file') {
      grid.append(h('div', null, h('label', { for: k + '-source' }, t.field), h('select', { id: k + '-source', 'aria-invalid': invalid('.source'), onchange: (e) => { row.source = e.target.value; rerender(); } },
        h('option', { value: '' }, t.chooseField), this.#fieldOptions(row.source, { files: kind === 'file', extra: kind !== 'file' }))));
    } else if (row.kind === 'constant') {
      grid.append(h('div', null, h('label', { for: k + '-constant' }, t.constant), this.#takes(kind, 'choice')
        ? h('select', { id: k + '-constant', 'aria-invalid': invalid('.constant'), onchange: (e) => { row.constant = e.target.value; } }, h('option', { value: '' }, '—'), (target.values || []).map((v) => h('option', { value: v, selected: v === row.constant }, this.#valueLabel(row, v))))
        : h('input', { type: 'text', id: k + '-constant', value: row.constant, 'aria-invalid': invalid('.constant'), oninput: (e) => { row.constant = e.target.value; } })));
    }
    fs.append(grid);
    if (row.kind === 'template' && kind !== 'file') {
      fs.append(h('label', { for: k + '-template' }, t.template),
        h('textarea', { id: k + '-template', 'aria-describedby': k + '-template-help', 'aria-invalid': invalid('.template'), oninput: (e) => { row.template = e.target.value; } }, row.template),
        h('p', { class: 'hint', id: k + '-template-help' }, t.templateHelp),
        h('label', { for: k + '-insert' }, t.insertField),
        // Arrow keys only pick; the button inserts.
        h('div', { class: 'insert' },
          h('select', { id: k + '-insert' }, h('option', { value: '' }, '—'), this.#fieldOptions('', { extra: true })),
          h('button', { type: 'button', id: k + '-insert-do', onclick: () => {
            const sel = this.shadowRoot.getElementById(k + '-insert'), v = sel.value;
            if (!v) return sel.focus();
            const ta = this.shadowRoot.getElementById(k + '-template');
            const at = ta.selectionStart ?? ta.value.length;
            ta.setRangeText(`{{${v}}}`, at, ta.selectionEnd ?? at, 'end');
            row.template = ta.value;
            sel.value = '';
            ta.focus();
          } }, t.insert)));
    }
    // Transforms that fit the target.
    const fit = kind && kind !== 'file' ? this.#s.transforms.filter((x) => this.#fits(x, kind)) : [];
    if (fit.length && row.kind !== 'template') {
      fs.append(h('fieldset', { class: invalid('.transforms') ? 'inner bad' : 'inner' }, h('legend', null, t.transforms),
        h('div', { class: 'checks' }, fit.map((x) => h('label', null, h('input', { type: 'checkbox', id: `${k}-tr-${x}`, checked: row.transforms.includes(x),
          onchange: (e) => { row.transforms = e.target.checked ? [...row.transforms, x] : row.transforms.filter((y) => y !== x); if (x === 'options' || x === 'join') rerender(); } }), t.tr[x] ? `${x}: ${t.tr[x]}` : x)))));
    }
    // The option table: each of the field's choices to a Personio value.
    const field = row.kind === 'field' ? this.#fieldBySource(row.source) : null;
    if (field && (this.#takes(kind, 'choice') || row.transforms.includes('options'))) {
      const choices = Array.isArray(field.choices) ? field.choices : [];
      const tbl = h('fieldset', { class: invalid('.options') ? 'inner bad' : 'inner' }, h('legend', null, t.optionTable));
      if (!choices.length) tbl.append(h('p', { class: 'hint' }, t.noChoices));
      const grid2 = h('div', { class: 'opt' });
      const values = this.#takes(kind, 'choice') && row.target !== 'custom_attribute_{id}' ? target.values : null;
      // Suggestions for the choices not set, to accept.
      const labels = row.target === 'gender' ? Object.fromEntries((values || []).map((v) => [v, Object.values(STRINGS).map((l) => l.gender[v]).filter(Boolean)])) : {};
      const suggested = {};
      if (values) for (const c of choices) { const v = row.options[c] ? '' : suggestOption(c, values, labels); if (v) suggested[c] = v; }
      choices.forEach((c, j) => {
        const id = `${k}-opt-${j}`;
        grid2.append(h('label', { for: id }, h('span', { class: 'sr' }, t.optionValue(c)), h('span', { 'aria-hidden': 'true' }, c),
          suggested[c] ? h('span', { class: 'hint suggest', id: id + '-suggest' }, ' ', t.suggested(this.#valueLabel(row, suggested[c]))) : null),
          values ? h('select', { id, 'aria-describedby': suggested[c] ? id + '-suggest' : null, onchange: (e) => { row.options[c] = e.target.value; } }, h('option', { value: '' }, '—'), values.map((v) => h('option', { value: v, selected: row.options[c] === v }, this.#valueLabel(row, v))))
            : h('input', { type: 'text', id, value: row.options[c] || '', placeholder: row.target === 'custom_attribute_{id}' ? 'custom_option_1' : '', oninput: (e) => { row.options[c] = e.target.value; } }));
      });
      tbl.append(grid2);
      if (Object.keys(suggested).length) {
        tbl.append(h('div', { class: 'actions' }, h('button', { type: 'button', id: k + '-accept', onclick: () => {
          Object.assign(row.options, suggested);
          rerender();
          const b = this.shadowRoot.getElementById(k + '-opt-0');
          if (b) b.focus();
        } }, t.acceptSuggestions(Object.keys(suggested).length))));
      }
      fs.append(tbl);
    }
    if (errs.length) fs.append(h('ul', { class: 'err', id: k + '-err' }, errs.map((p) => h('li', null, p.message))));
    const warned = this.#warningsAt(`optional[${i}]`, row);
    if (warned) fs.append(warned);
    const move = (d) => () => {
      const j = i + d;
      if (j < 0 || j >= s.rows.length) return;
      [s.rows[i], s.rows[j]] = [s.rows[j], s.rows[i]];
      this.#shiftProblems(i, j);
      rerender();
    };
    fs.append(h('div', { class: 'rowtools' },
      h('button', { type: 'button', id: k + '-up', 'aria-label': t.moveUp(n), 'aria-disabled': i === 0 ? 'true' : null, onclick: move(-1) }, '↑ ', t.up),
      h('button', { type: 'button', id: k + '-down', 'aria-label': t.moveDown(n), 'aria-disabled': i === s.rows.length - 1 ? 'true' : null, onclick: move(1) }, '↓ ', t.down),
      h('button', { type: 'button', class: 'danger', id: k + '-remove', 'aria-label': t.remove(n), onclick: () => {
        s.rows.splice(i, 1);
        this.#dropProblems(`optional[${i}]`);
        this.#shiftProblems(i, -1);
        this.#update('save');
        rerender();
        const next = s.rows[i] || s.rows[i - 1];
        this.shadowRoot.getElementById(next ? next.key + '-remove' : 'add-row').focus();
      } }, t.del)));
    return fs;
  }

  #valueLabel(row, v) {
    const l = row.target === 'gender' ? this.#t.gender[v] || v : v;
    return l === v ? v : `${l} (${v})`;
  }

  // English: the page's own file labels; German: the catalogue's.
  #targetLabel(x) { return (this.language === 'de' ? x.label_de : this.#t.targets[x.id]) || x.label; }

  // Problems keep pointing at their rows when rows move.
  #shiftProblems(i, j) {
    const re = /^optional\[(\d+)\]/;
    for (const p of [...this.#s.problems, ...this.#s.general.filter((g) => g.path), ...(this.#s.warns || [])]) {
      const m = re.exec(p.path);
      if (!m) continue;
      const x = Number(m[1]);
      let y = x;
      if (j === -1) { if (x > i) y = x - 1; } else if (x === i) y = j; else if (x === j) y = i;
      p.path = p.path.replace(re, `optional[${y}]`);
    }
  }

  // dropProblems forgets the problems of a row or field that was changed
  // since the API reported them.
  #dropProblems(prefix) {
    const s = this.#s;
    const hit = (path) => path === prefix || path.startsWith(prefix + '.') || path.startsWith(prefix + '[');
    s.problems = s.problems.filter((p) => !hit(p.path));
    s.general = s.general.filter((p) => !(p.path && hit(p.path)));
    s.warns = (s.warns || []).filter((p) => !hit(p.path));
  }

  #problemsAt(prefix) {
    return this.#s.problems.filter((p) => p.path === prefix || p.path.startsWith(prefix + '.') || p.path.startsWith(prefix + '['));
  }

  // 5. Save and switch on.
  #save(el) {
    const s = this.#s, t = this.#t;
    const enabled = !!(s.integration && s.integration.enabled);
    el.append(h('h2', { id: 'h-save' }, t.s5));
    if (s.general.length) {
      el.append(h('div', { class: 'summary', id: 'summary', tabindex: '-1', role: 'alert' }, h('p', null, h('strong', null, t.problems(s.general.length))),
        h('ul', null, s.general.map((p) => h('li', null, p.focus ? h('a', { href: '#' + p.focus, onclick: (e) => { e.preventDefault(); const x = this.shadowRoot.getElementById(p.focus); if (x) { x.scrollIntoView({ block: 'center' }); x.focus(); } } }, p.where ? p.where + ': ' : '', p.message) : p.message)))));
    }
    el.append(h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', id: 'save-settings', disabled: s.saving, onclick: () => this.#saveSettings() }, s.saving ? t.saving : t.save),
      h('button', { type: 'button', class: 'switch', role: 'switch', id: 'toggle', 'aria-checked': String(enabled), 'aria-disabled': s.integration ? null : 'true', 'aria-describedby': s.integration ? null : 'toggle-help', onclick: () => this.#toggle() },
        h('span', { class: 'track', 'aria-hidden': 'true' }), t.active)));
    if (!s.integration) el.append(h('p', { class: 'hint', id: 'toggle-help' }, t.activeHelpOff));
    el.append(h('div', { 'aria-live': 'polite' }, this.#msg(s.saveMsg)));
  }

  async #saveSettings() {
    const s = this.#s, t = this.#t, root = this.shadowRoot;
    const local = [];
    if (!s.connectionId) local.push({ path: '/connection_id', message: t.needAccount });
    if (!s.positionId) local.push({ path: '/job_position_id', message: t.needPosition });
    const route = this.#routeBody(local);
    for (const name of REQUIRED) if (!s.required[name]?.value) local.push({ path: `/mapping/required.${name}`, message: t.needField });
    s.rows.forEach((r, i) => {
      if (!r.target) local.push({ path: `/mapping/optional[${i}].target`, message: t.needTarget });
      else if (r.target === 'custom_attribute_{id}' && !/^[1-9]\d{0,17}$/.test(r.customId.trim())) local.push({ path: `/mapping/optional[${i}].target`, message: t.needAttr });
    });
    if (local.length) return this.#showProblems(local);
    s.saving = true;
    s.saveMsg = null;
    this.#update('save');
    const f = encodeURIComponent(this.funnelId);
    const body = { connection_id: s.connectionId, job_position_id: s.positionId, mapping: this.#mapping() };
    // The feed the position came from (the watch; its name after a reload).
    if (s.positions && s.positions.some((p) => p.id === s.positionId)) body.career_site = s.subdomain;
    if (route) body.position_routing = route;
    const questions = this.#questions();
    if (questions.length) body.funnel = { fields: questions };
    if (s.integration && s.integration.recruiting_channel_id) body.recruiting_channel_id = s.integration.recruiting_channel_id;
    try {
      const res = await this.#api('PUT', `/v1/funnels/${f}/integration`, { body, etag: s.integration ? s.etag : '' });
      s.integration = res.data;
      s.etag = res.headers.get('ETag') || '';
      for (const name of REQUIRED) s.required[name] = { value: s.required[name].value, loaded: s.required[name].value, rule: res.data.mapping.required[name] };
      s.problems = [];
      s.general = [];
      s.saving = false;
      s.warns = (res.data.warnings || []).map((w) => ({ path: this.#subPath(w.path), raw: w }));
      s.saveMsg = s.warns.length ? { kind: 'warn', key: 'savedWarn', args: [s.warns.length] } : { kind: 'good', key: 'saved' };
      for (const id of ['required', 'optional', 'save', 'test', 'position']) this.#update(id);
      this.#pill();
      root.getElementById('save-settings').focus();
      this.dispatchEvent(new CustomEvent('personio-change', { bubbles: true, composed: true, detail: { enabled: res.data.enabled } }));
    } catch (e) {
      s.saving = false;
      if (e.problem && Array.isArray(e.problem.errors) && e.problem.errors.length) return this.#showProblems(e.problem.errors);
      s.saveMsg = { kind: 'bad', err: e };
      this.#update('save');
      root.getElementById('save-settings').focus();
    }
  }

  // A problem (or warning) in the page's language: what fits where in
  // the page's words with the funnel's labels, the rest as the API says
  // it in that language.
  #problemText(p) {
    const t = this.#t, q = p.params || {};
    if (!/^source-(cannot-fit|needs-transform)$/.test(p.code) || !t.kinds[q.takes] || !t.kinds[q.holds]) return String((p.messages && p.messages[this.language]) || p.message || '');
    const target = REQUIRED.includes(q.target) ? t[q.target] : this.#targetLabel(this.#s.targets.find((x) => x.id === q.target) || { id: q.target, label: q.target });
    const src = String(q.source).includes('.') ? this.#labelOf(q.source) : q.source;
    return p.code === 'source-cannot-fit' ? t.cannotFit(target, src, t.kinds[q.takes], t.kinds[q.holds]) : t.needsTr(target, src, t.kinds[q.takes], t.kinds[q.holds], q.transform, t.tr[q.transform] || q.transform);
  }

  // subPath turns the API's pointer (/mapping/optional/0/source) into the
  // page's path (optional[0].source).
  #subPath(path) {
    const m = /^\/mapping\/(.*)$/.exec(String(path || ''));
    return m && m[1] ? m[1].split('/').map((k, i) => (/^\d+$/.test(k) ? `[${k}]` : (i ? '.' : '') + k.replace(/~1/g, '/').replace(/~0/g, '~'))).join('') : '';
  }

  // The warnings of the last save at a field (prefix), in words, and for
  // an optional row a button that adds the transform proposed.
  #warningsAt(prefix, row) {
    const t = this.#t;
    const ws = (this.#s.warns || []).filter((w) => w.path === prefix || w.path.startsWith(prefix + '.'));
    if (!ws.length) return null;
    return h('ul', { class: 'warnlist', id: (row ? row.key : prefix) + '-warn' }, ws.map((w) => h('li', null, this.#problemText(w.raw),
      row && w.raw.params && w.raw.params.transform && !row.transforms.includes(w.raw.params.transform)
        ? [' ', h('button', { type: 'button', class: 'link', id: row.key + '-addtr', onclick: () => {
          row.transforms.push(w.raw.params.transform);
          this.#s.warns = this.#s.warns.filter((x) => x !== w);
          this.#update('optional');
          this.shadowRoot.getElementById(`${row.key}-tr-${w.raw.params.transform}`)?.focus();
        } }, t.addTr(w.raw.params.transform))] : null)));
  }

  // showProblems puts every problem at its field, and lists them all at
  // the save button, each a link to its field.
  #showProblems(list, still) {
    const s = this.#s, t = this.#t;
    s.raw = list;
    s.problems = [];
    s.general = [];
    s.connErrors = {};
    s.posErrors = null;
    s.route.errors = {};
    s.saveMsg = null;
    for (const raw of list) {
      // The API names rows by their index ("optional[0]"); the page by number.
      const p = { path: raw.path, message: this.#problemText(raw).replace(/\boptional\[(\d+)\]/g, (_, i) => t.row(Number(i) + 1)) };
      const path = String(p.path || '');
      const m = /^\/mapping\/(.*)$/.exec(path);
      let focus = '', where = '', gpath = '';
      if (m && m[1]) {
        // JSON pointer (optional/0/target) to optional[0].target.
        const sub = this.#subPath(path);
        s.problems.push({ path: sub, message: p.message });
        gpath = sub;
        const r = /^required\.(first_name|last_name|email)/.exec(sub);
        const o = /^optional\[(\d+)\](?:\.(\w+))?/.exec(sub);
        if (r) { focus = 'req-' + r[1]; where = t[r[1]]; }
        else if (o && s.rows[o[1]]) {
          const row = s.rows[o[1]];
          const part = { source: '-source', constant: '-constant', template: '-template', type: '-type', options: '-opt-0', transforms: '-tr-' + (row.transforms[0] || '') }[o[2]] || '-target';
          focus = this.shadowRoot.getElementById(row.key + part) ? row.key + part : row.key + '-target';
          where = t.row(Number(o[1]) + 1);
        }
      } else if (path === '/connection_id') { s.connErrors.connection = p.message; focus = s.connections.length ? 'connection' : 'add-account'; where = t.s1; }
      else if (path === '/job_position_id') { s.posErrors = p.message; focus = 'position-paste'; where = t.s2; }
      else if (path.startsWith('/position_routing')) { focus = this.#routeProblem(path, p.message); where = t.s2; }
      s.general.push({ message: p.message, focus, where, path: gpath });
    }
    for (const id of ['account', 'position', 'required', 'optional', 'save']) this.#update(id);
    const sum = this.shadowRoot.getElementById('summary');
    if (sum && !still) sum.focus();
  }

  async #toggle() {
    const s = this.#s, t = this.#t;
    if (!s.integration || s.toggling) return;
    s.toggling = true;
    const next = !s.integration.enabled;
    try {
      const res = await this.#api('PATCH', `/v1/funnels/${encodeURIComponent(this.funnelId)}/integration`, { body: { enabled: next }, etag: s.etag });
      s.integration = res.data;
      s.etag = res.headers.get('ETag') || s.etag;
      s.saveMsg = { kind: 'good', key: next ? 'switchedOn' : 'switchedOff' };
      this.dispatchEvent(new CustomEvent('personio-change', { bubbles: true, composed: true, detail: { enabled: next } }));
    } catch (e) {
      s.saveMsg = { kind: 'bad', err: e };
    }
    s.toggling = false;
    this.#update('save');
    this.#pill();
  }

  #pill() {
    const p = this.shadowRoot.getElementById('pill');
    const on = !!(this.#s.integration && this.#s.integration.enabled);
    if (p) { p.className = 'pill ' + (on ? 'on' : 'off'); p.textContent = on ? this.#t.on : this.#t.off; }
  }

  // 6. Test application, watched live.
  #test(el) {
    const s = this.#s, t = this.#t;
    const x = s.test;
    el.append(h('h2', { id: 'h-test' }, t.s6), h('p', { class: 'help' }, t.s6help),
      h('div', { class: 'actions' }, h('button', { type: 'button', id: 'send-test', disabled: !!(x && x.running), 'aria-describedby': s.integration ? null : 'test-help', onclick: () => this.#sendTest() }, t.sendTest)));
    if (!s.integration) el.append(h('p', { class: 'hint', id: 'test-help' }, t.saveFirst));
    const live = h('div', { id: 'test-live', 'aria-live': 'polite' });
    if (x) {
      if (x.steps.length) live.append(h('ol', { class: 'timeline', id: 'test-timeline', 'aria-label': t.s6 }, x.steps.map((st) => h('li', { class: st.status }, `${t.st[st.status] || st.status} · ${this.#time(st.at)}`))));
      if (x.msg) live.append(this.#msg(x.msg));
    }
    el.append(live);
  }

  async #sendTest() {
    const s = this.#s, t = this.#t;
    const f = encodeURIComponent(this.funnelId);
    const x = (s.test = { running: true, steps: [], msg: null, sent: Date.now() });
    this.#update('test');
    try {
      const res = await this.#api('POST', `/v1/funnels/${f}/integration/test`);
      x.id = res.data.delivery_id;
      x.steps.push({ status: res.data.status, at: new Date() });
      this.#update('test');
      this.#refreshLog();
      const until = Date.now() + 180000;
      while (Date.now() < until && s.test === x) {
        await new Promise((r) => setTimeout(r, 400));
        const d = (await this.#api('GET', `/v1/funnels/${f}/deliveries/${encodeURIComponent(x.id)}`)).data;
        if (d.status !== x.steps[x.steps.length - 1].status) { x.steps.push({ status: d.status, at: new Date(d.updated_at) }); this.#update('test'); }
        if (FINAL.has(d.status)) {
          x.msg = d.status === 'delivered' ? { kind: 'good', key: 'testDelivered', args: [this.#number((Date.now() - x.sent) / 1000, 1)] } : { kind: 'bad', text: d.message || d.reason || t.st[d.status] };
          break;
        }
      }
    } catch (e) {
      x.msg = { kind: 'bad', err: e };
    }
    x.running = false;
    this.#update('test');
    this.#refreshLog();
  }

  // The browser's locale of the page's language.
  get #locale() {
    const lang = this.language;
    const own = (navigator.languages || [navigator.language || '']).find((l) => l && l.toLowerCase().split('-')[0] === lang);
    return own || lang;
  }

  #time(d) {
    const date = d instanceof Date ? d : new Date(d);
    return new Intl.DateTimeFormat(this.#locale, { dateStyle: 'short', timeStyle: 'medium' }).format(date);
  }

  #number(n, digits) {
    return new Intl.NumberFormat(this.#locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
  }

  // 7. The delivery log.
  #log(el) {
    const s = this.#s, t = this.#t, L = s.log;
    el.append(h('h2', { id: 'h-log' }, t.s7));
    el.append(h('div', { class: 'row' },
      h('div', null, h('label', { for: 'log-status' }, t.filter), h('select', { id: 'log-status', onchange: (e) => { L.status = e.target.value; this.#refreshLog(); } },
        h('option', { value: '' }, t.all), this.#s.statuses.map((x) => h('option', { value: x, selected: x === L.status }, t.st[x] || x)))),
      h('div', { class: 'auto' }, h('button', { type: 'button', id: 'log-refresh', onclick: () => this.#refreshLog() }, t.refresh))));
    if (L.msg) el.append(this.#msg(L.msg));
    if (!L.items.length) {
      el.append(h('p', { class: 'hint', id: 'log-empty' }, L.loading ? t.loading : t.empty));
      return;
    }
    el.append(h('table', { id: 'log-table' }, h('caption', { class: 'sr' }, t.s7),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t.when), h('th', { scope: 'col' }, t.status), h('th', { scope: 'col' }, t.details), h('th', { scope: 'col' }, h('span', { class: 'sr' }, t.retry)))),
      h('tbody', null, L.items.map((d) => h('tr', { id: 'd-' + d.id, 'data-status': d.status },
        h('td', null, this.#time(d.created_at)),
        h('td', null, h('span', { class: 'badge ' + d.status }, t.st[d.status] || d.status), d.test ? h('span', { class: 'tag' }, t.test) : null),
        h('td', null, d.message || d.reason || '', h('div', { class: 'hint' }, h('code', null, d.id), d.tries ? ' · ' + t.attempts(d.tries) : '', d.personio_application_id ? ' · ' + t.appId(d.personio_application_id) : '')),
        h('td', null, this.#s.retryable.includes(d.status) ? h('button', { type: 'button', id: 'retry-' + d.id, 'aria-label': `${t.retry}: ${this.#time(d.created_at)}`, onclick: () => this.#retry(d) }, t.retry) : null))))));
    if (L.cursor) {
      const more = h('button', { type: 'button', id: 'log-more', disabled: L.loading, onclick: () => this.#moreLog() }, t.more);
      el.append(h('div', { class: 'actions' }, more));
      if (this.#observer) this.#observer.disconnect();
      if ('IntersectionObserver' in window) {
        this.#observer = new IntersectionObserver((es) => { if (es.some((x) => x.isIntersecting)) this.#moreLog(); });
        this.#observer.observe(more);
      }
    }
  }

  async #refreshLog() {
    const s = this.#s;
    if (!s || s.phase !== 'ready') return;
    const L = s.log;
    const q = new URLSearchParams({ limit: '20' });
    if (L.status) q.set('status', L.status);
    const status = L.status;
    try {
      const res = await this.#api('GET', `/v1/funnels/${encodeURIComponent(this.funnelId)}/deliveries?${q}`);
      if (status !== L.status) return;
      const sig = JSON.stringify(res.data);
      const stale = L.msg && (L.msg.kind === 'bad' || Date.now() - L.msgAt > 8000);
      if (sig === L.sig && !stale) return; // nothing new: leave the log (and the focus in it) alone
      L.sig = sig;
      L.items = res.data.deliveries || [];
      L.cursor = res.data.next_cursor || '';
      if (stale) L.msg = null;
    } catch (e) {
      L.msg = { kind: 'bad', err: e };
    }
    this.#update('log');
  }

  async #moreLog() {
    const s = this.#s, L = s.log;
    if (L.loading || !L.cursor) return;
    L.loading = true;
    const q = new URLSearchParams({ limit: '20', cursor: L.cursor });
    if (L.status) q.set('status', L.status);
    try {
      const res = await this.#api('GET', `/v1/funnels/${encodeURIComponent(this.funnelId)}/deliveries?${q}`);
      const seen = new Set(L.items.map((d) => d.id));
      L.items.push(...(res.data.deliveries || []).filter((d) => !seen.has(d.id)));
      L.cursor = res.data.next_cursor || '';
    } catch (e) {
      L.msg = { kind: 'bad', err: e };
    }
    L.loading = false;
    this.#update('log');
  }

  async #retry(d) {
    const s = this.#s, t = this.#t, L = s.log;
    try {
      const res = await this.#api('POST', `/v1/funnels/${encodeURIComponent(this.funnelId)}/deliveries/${encodeURIComponent(d.id)}/retry`);
      Object.assign(d, res.data);
      L.msg = { kind: 'good', key: 'retried' };
      L.msgAt = Date.now();
    } catch (e) {
      L.msg = { kind: 'bad', err: e };
    }
    this.#update('log');
    this.shadowRoot.getElementById('log-refresh').focus();
  }

  // poll reads the connection's health and the log's first page again,
  // unless more pages were loaded (they would be lost).
  async #poll() {
    const s = this.#s;
    if (!s || s.phase !== 'ready') return;
    if (s.connectionId && !(s.banner && s.banner.busy)) {
      const seq = s.healthSeq || 0;
      try {
        const c = (await this.#api('GET', `/v1/connections/${encodeURIComponent(s.connectionId)}`)).data;
        if ((s.healthSeq || 0) !== seq) return;
        const parked = c.status !== 'needs_attention' ? 0
          : (await this.#api('GET', `/v1/funnels/${encodeURIComponent(this.funnelId)}/deliveries?status=parked&limit=100`)).data.deliveries.length;
        if ((s.healthSeq || 0) !== seq) return;
        const i = s.connections.findIndex((x) => x.id === c.id);
        const was = i >= 0 ? s.connections[i].status : '';
        if (i >= 0) s.connections[i] = c;
        if (c.status === 'needs_attention') {
          // "Connected" no longer holds beside the banner.
          if (s.connMsg && s.connMsg.key === 'connected' && was !== c.status) s.connMsg = null;
          const b = s.banner && !s.banner.restored ? s.banner : {};
          if (was !== c.status || b.parked !== parked) { s.banner = { ...b, parked }; this.#update('banner'); this.#update('account'); }
        } else if (was !== c.status) { this.#update('banner'); this.#update('account'); }
      } catch { /* shown on the next action */ }
    }
    if (s.log.items.length <= 20) this.#refreshLog();
  }
}

if (!customElements.get('personio-integration')) customElements.define('personio-integration', PersonioIntegration);
