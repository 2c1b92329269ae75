// 監視・監督デスク — the oversight commission's desk (plain JS, no build step).
//
// The page of `ipn oversight desk` (issue #17; its API: oversight/desk_server.cc). Every
// number shown comes from records the desk verified against signed tree heads; the page
// itself re-checks the inclusion proofs of an anomaly's records with the portal's
// verification functions (self.ipnVerify, /verify.js) and draws its charts with Chart.js
// (/chart.js, embedded at build time). Works under a strict CSP: no inline script or style,
// no event handler attributes; all text in Japanese and English (STRINGS).
(function () {
  'use strict';

  const root = typeof window !== 'undefined' ? window : globalThis;
  if (typeof document === 'undefined') return;

  // ===================================================================================
  // Strings
  // ===================================================================================

  const STRINGS = {
    ja: {
      title: '監視・監督デスク',
      subtitle: '個人情報保護委員会：検証済みの情報提供等の記録',
      skip: '本文へ移動',
      langToggleLabel: 'Switch to English',
      loading: '読み込み中…',
      logout: 'ログアウト',
      who: '{name} さん',
      navLabel: '表示',
      navOverview: '概要',
      navVolumes: '件数',
      navRefusals: '拒否率',
      navAnomalies: '不正兆候',
      navHeads: 'ツリーヘッド履歴',
      navFees: '手数料明細',
      navAudit: '閲覧記録',
      footer: '表示する数値はすべて、デスクが署名付きツリーヘッドに照らして検証した記録から数えたものです。記録には本人の情報の中身は含まれず、本人は仮名の記録用符号で示されます。',
      loginHeading: '調査担当者のログイン',
      loginIntro: '名前とパスワード、認証アプリに表示される6桁の確認コード（二要素目）を入力してください。',
      loginName: '名前',
      loginPassword: 'パスワード',
      loginCode: '確認コード（6桁）',
      loginCodeHelp: 'コードは30秒ごとに変わり、一度しか使えません。',
      loginSubmit: 'ログイン',
      loggingIn: 'ログインしています…',
      loggedIn: 'ログインしました。',
      loggedOut: 'ログアウトしました。',
      loginMissing: '名前、パスワード、確認コードをすべて入力してください。',
      codeFormat: '確認コードは6桁の数字です。',
      loginFailed: 'ログインできませんでした。名前、パスワード、確認コードのいずれかが正しくありません（確認コードは一度しか使えません）。',
      overviewHeading: '概要',
      ovSize: '検証済みの記録',
      ovHead: '最新のツリーヘッド',
      ovLastPull: '最後の取得',
      ovFindings: '検証で拒否したヘッド（発見事項）',
      ovOpenAnomalies: '未対応の不正兆候',
      ovRecordsKey: '信頼する記録署名鍵',
      ovHeadValue: '{size} 件（{time}）',
      ovNoHead: 'まだありません',
      ovPullOk: '{time}：{added} 件を追加',
      ovPullFailed: '{time}：失敗（{error}）',
      ovNever: 'まだ取得していません',
      ovStaged: '（検証待ち {staged} 件）',
      overviewHelp: 'デスクは新しい記録を取得するたびに、署名付きツリーヘッドとそれまでのすべてのヘッドとの整合性を検証します。検証に通らない記録は表示されず、発見事項として残ります。',
      pullNow: '今すぐ取得',
      refresh: '再表示',
      pulling: '取得しています…',
      pulled: '取得しました：{added} 件を追加、ツリーの大きさは {size} 件です。',
      filterLegend: '条件（日本時間）',
      fGranularity: '単位',
      granMonth: '月',
      granDay: '日',
      fFrom: '開始',
      fTo: '終了（含む）',
      fAgency: '照会機関',
      allAgencies: 'すべての機関',
      fGroup: '内訳',
      groupInquirer: '照会機関別',
      groupBusiness: '事務別',
      groupItem: '項目別',
      groupEvent: '出来事（結果）別',
      fMeasure: '数えるもの',
      measureInquiries: '照会（受付＋拒否）',
      measureRecords: 'すべての記録',
      apply: '表示',
      show: '表示',
      badPeriod: '期間の形式が正しくありません（月は 2026-07、日は 2026-07-01 の形式）。',
      badRange: '開始が終了より後になっています。',
      volumesHeading: '件数の推移',
      volCaption: '{measure}・{group}・{agency}',
      volLineCaption: '期間ごとの件数',
      volLineAlt: '期間ごとの件数の折れ線グラフ。数値は下の表にあります。',
      volBarCaption: '出来事（結果）別の件数',
      volBarAlt: '出来事別の件数の棒グラフ。数値は下の表にあります。',
      volTableHeading: '数値',
      volEventTableHeading: '出来事（結果）別の合計',
      colPeriod: '期間',
      colGroup: '内訳',
      colCount: '件数',
      colEvent: '出来事',
      colTotal: '合計',
      noRows: '該当する記録はありません。',
      others: 'その他',
      refusalsHeading: '拒否率と拒否の理由',
      refusalsHelp: '拒否率 ＝ 拒否 ÷（受付＋拒否）。照会のうち、コアが許可リストなどに照らして拒否した割合です。',
      refLineCaption: '期間ごとの拒否率',
      refLineAlt: '拒否率の折れ線グラフ。数値は下の表にあります。',
      refBarCaption: '拒否の理由',
      refBarAlt: '拒否の理由別件数の棒グラフ。数値は下の表にあります。',
      refTableHeading: '期間ごとの拒否率',
      reasonTableHeading: '拒否の理由',
      colAccepted: '受付',
      colRefused: '拒否',
      colRate: '拒否率',
      colReason: '理由',
      refRateSeries: '拒否率（%）',
      anomaliesHeading: '不正兆候',
      anomaliesHelp: '兆候は調べるきっかけであって、不正の認定ではありません。',
      anomStatusFilter: '状態',
      statusAll: 'すべて',
      status_open: '未対応',
      status_under_review: '調査中',
      status_closed: '終了',
      rule_volume: '照会件数の急増',
      rule_refusal_burst: '拒否の集中',
      rule_person_focus: '同一人物への集中',
      rule_off_hours: '業務時間外の照会',
      colRule: '兆候',
      colAgency: '照会機関',
      colWindow: '期間',
      colCountThreshold: '件数／基準',
      colExplanation: '説明',
      colStatus: '状態',
      colNote: 'メモ',
      colRecords: '記録',
      open: '詳細',
      openLabel: '兆候 {id} の詳細を開く',
      noAnomalies: '該当する兆候はありません。',
      expl_volume: '{agency} は {from}〜{to} に {count} 件の照会をしました（基準 {threshold} 件を超過）。',
      expl_refusal_burst: '{agency} の照会が {from}〜{to} に {count} 件拒否されました（一つの時間枠で基準 {threshold} 件以上）。',
      expl_person_focus: '{agency} は {from}〜{to} に同じ一人について {count} 件の照会をしました（基準 {threshold} 件）。',
      expl_off_hours: '{agency} は {from}（日本時間の一日）に届け出た業務時間外の照会を {count} 件しました（基準 {threshold} 件）。',
      anomDetailHeading: '兆候の詳細',
      factId: '識別子',
      factFirstSeen: '最初の検出',
      factUpdated: '最終更新',
      factUpdatedValue: '{time}（{name}）',
      factHeadSize: '証明の基準となるツリーヘッド',
      truncated: '記録が多いため、最初の {n} 件だけを表示しています。',
      checkProofs: '包含証明を確認する',
      checkingProofs: '確認しています…',
      proofAllOk: '{n} 件すべての記録について、包含証明が署名付きツリーヘッド（{size} 件）に合い、ヘッドは信頼する記録署名鍵で署名されています。',
      proofFailed: '{failed} 件の記録の包含証明が合いません（{n} 件中）。記録が改ざんされているか、証明が正しくありません。',
      proofBadHead: 'ツリーヘッドの署名が正しくありません。',
      proofWrongKey: 'ツリーヘッドが、デスクが信頼する記録署名鍵とは別の鍵（{key}…）で署名されています。',
      proofOk: '✓',
      proofBad: '✗',
      proofOkLabel: '証明は正しい',
      proofBadLabel: '証明が合わない',
      colSeq: '番号',
      colTime: '日時（日本時間）',
      colInquirer: '照会機関',
      colProvider: '提供機関',
      colBusiness: '事務',
      colItem: '項目',
      colRequest: '照会番号',
      colOutcome: '結果',
      colSymbol: '記録用符号',
      colProof: '証明',
      statusLegend: '状態の変更',
      statusLabel: '状態',
      noteLabel: 'メモ（終了にするときは必須、2,000文字まで）',
      statusSave: '保存',
      noteRequired: '終了にするときはメモを書いてください。',
      noteTooLong: 'メモは2,000文字までです。',
      statusSaved: '状態を「{status}」にしました。',
      headsHeading: 'ツリーヘッド履歴',
      headsHelp: '採用したヘッドはどれも、その前のヘッドを延長していること（整合性）を検証済みです。検証に通らなかったヘッドは発見事項として下に示し、その記録は件数に加えていません。',
      findingsHeading: '発見事項',
      headsTableHeading: '採用したヘッド',
      findingsNone: '発見事項はありません。',
      findingsSome: '発見事項が {n} 件あります。コアの記録が改ざんされたか、ログの履歴が書き換えられた可能性があります。',
      colTreeSize: '記録数',
      colHeadTime: 'ヘッドの時刻',
      colRoot: 'ルートハッシュ',
      colCommitted: '採用した日時',
      colConsistent: '整合性',
      consistent: '✓ 検証済み',
      colFound: '検出日時',
      colHeadSize: 'ヘッドの記録数',
      colKind: '種類',
      colDetail: '内容',
      kind_bad_signature: '署名が不正',
      kind_inconsistent: '整合しない（改ざん・書き換え）',
      kind_not_contiguous: '記録が連続していない',
      kind_too_many: '発見事項が多すぎる',
      findingText_bad_signature: '記録数 {size} のヘッドは、委員会が信頼する記録署名鍵で署名されていません。',
      findingText_inconsistent: '記録数 {size} のヘッドが、取得した記録またはそれ以前のログと一致しません。記録の改ざん・削除・挿入・並べ替え、またはログの書き換えのおそれがあります。',
      findingText_not_contiguous: '記録数 {size} のヘッドが、検証して取得した記録の範囲とちょうど一致しません。',
      findingText_too_many: '記録数 {size} のヘッド：検証前に保留できる記録数の上限を超えました。',
      noHeads: 'まだヘッドを採用していません。',
      feesHeading: '情報提供手数料の明細',
      feeQuarter: '四半期（例：2026Q3）',
      feeCsv: 'CSVでダウンロード',
      feePrint: '印刷',
      feeHelp: '課金対象は、照会機関と照会番号で一つのやり取りにつき最初の「提供」記録です（日本時間の四半期で数えます）。',
      badQuarter: '四半期は 2026Q3 の形式で入力してください。',
      feeTitle: '{year}年 第{q}四半期（{from}〜{to}）情報提供手数料明細',
      feeTariff: '料金表',
      feeTariffValue: '第 {version} 版（{from} から適用、SHA-256 {digest}…）',
      feeHead: '記録を証明したツリーヘッド',
      feeHeadValue: '{size} 件',
      feeChargeable: '課金対象のやり取り',
      feeTotal: '合計金額',
      colExchanges: 'やり取り',
      colRatePer: '1件あたり',
      colAmount: '金額',
      feeSubtotal: '{agency} 計',
      feeGrandTotal: '総計',
      feeNoLines: 'この四半期に課金対象のやり取りはありません。',
      yen: '{amount} 円',
      feesNoTariff: 'デスクに料金表が設定されていないため、明細を作れません。',
      auditHeading: '閲覧記録（監査ログ）',
      auditHelp: 'このデスクでの閲覧と操作はすべて記録されます（新しい順、最大200件）。',
      colAt: '日時',
      colWho: '担当者',
      colAction: '操作',
      colChain: 'チェーン',
      noAudit: '記録はありません。',
      ev_inquiry_accepted: '照会受付',
      ev_inquiry_refused: '照会拒否',
      ev_forwarded: '転送',
      ev_provided: '提供',
      ev_not_held: '該当なし',
      ev_failed: '失敗',
      ev_timed_out: '期限切れ',
      ev_received: '受領',
      ev_operator_action: '運用者の操作',
      err_bad_request: '要求の内容が正しくありません。',
      err_unauthenticated: 'ログインしていないか、セッションが終了しました。もう一度ログインしてください。',
      err_locked: '失敗が続いたため、この名前はロックされています。約 {minutes} 分後にやり直してください。',
      err_not_found: '見つかりません。',
      err_forbidden: 'この操作は許可されていません。',
      err_unavailable: 'デスクのサービスが一時的に利用できません。しばらくしてからやり直してください。',
      err_finding: '取得した記録が検証に通らなかったため、採用しませんでした（記録の改ざんや欠落のおそれがあります）。「ツリーヘッド履歴」の発見事項を確認してください。',
      err_network: 'デスクに接続できませんでした。',
      err_other: 'デスクがエラーを返しました（{status}）。',
      err_unexpected: '予期しない問題が起きました。ページを再読み込みしてください。',
      err_badResponse: 'デスクの応答が読み取れませんでした。',
      sessionEnded: 'セッションが終了しました。もう一度ログインしてください。',
      detail: '（詳細：{text}）',
      noChart: 'グラフを表示できません（Chart.js が読み込まれていません）。',
    },
    en: {
      title: 'Oversight desk',
      subtitle: 'Personal Information Protection Commission: verified provision records',
      skip: 'Skip to content',
      langToggleLabel: '日本語に切り替え',
      loading: 'Loading…',
      logout: 'Log out',
      who: '{name}',
      navLabel: 'Views',
      navOverview: 'Overview',
      navVolumes: 'Volumes',
      navRefusals: 'Refusal rates',
      navAnomalies: 'Anomalies',
      navHeads: 'Head history',
      navFees: 'Fee statement',
      navAudit: 'Audit log',
      footer: 'Every number shown is counted from records the desk verified against signed tree heads. Records hold no personal data; a person appears only as a pseudonymous record symbol.',
      loginHeading: 'Investigator log-in',
      loginIntro: 'Enter your name, your password and the 6-digit code your authenticator app shows (the second factor).',
      loginName: 'Name',
      loginPassword: 'Password',
      loginCode: 'One-time code (6 digits)',
      loginCodeHelp: 'The code changes every 30 seconds and works only once.',
      loginSubmit: 'Log in',
      loggingIn: 'Logging in…',
      loggedIn: 'Logged in.',
      loggedOut: 'Logged out.',
      loginMissing: 'Enter your name, password and one-time code.',
      codeFormat: 'The one-time code is 6 digits.',
      loginFailed: 'Log-in failed: the name, password or one-time code is wrong (a code works only once).',
      overviewHeading: 'Overview',
      ovSize: 'Verified records',
      ovHead: 'Newest tree head',
      ovLastPull: 'Last pull',
      ovFindings: 'Refused heads (findings)',
      ovOpenAnomalies: 'Open anomalies',
      ovRecordsKey: 'Trusted records signing key',
      ovHeadValue: '{size} records ({time})',
      ovNoHead: 'none yet',
      ovPullOk: '{time}: {added} added',
      ovPullFailed: '{time}: failed ({error})',
      ovNever: 'not pulled yet',
      ovStaged: ' ({staged} awaiting verification)',
      overviewHelp: 'On every pull the desk verifies the new records against a signed tree head consistent with every head before it. Records that fail are not shown; the failure is kept as a finding.',
      pullNow: 'Pull now',
      refresh: 'Refresh',
      pulling: 'Pulling…',
      pulled: 'Pulled: {added} records added; the tree now holds {size} records.',
      filterLegend: 'Filter (JST)',
      fGranularity: 'Granularity',
      granMonth: 'Month',
      granDay: 'Day',
      fFrom: 'From',
      fTo: 'To (inclusive)',
      fAgency: 'Inquiring agency',
      allAgencies: 'All agencies',
      fGroup: 'Break down by',
      groupInquirer: 'Agency',
      groupBusiness: 'Business',
      groupItem: 'Item',
      groupEvent: 'Event (outcome)',
      fMeasure: 'Count',
      measureInquiries: 'Inquiries (accepted + refused)',
      measureRecords: 'All records',
      apply: 'Show',
      show: 'Show',
      badPeriod: 'The period is malformed (months as 2026-07, days as 2026-07-01).',
      badRange: 'The start is after the end.',
      volumesHeading: 'Volumes over time',
      volCaption: '{measure} · by {group} · {agency}',
      volLineCaption: 'Count per period',
      volLineAlt: 'Line chart of counts per period. The numbers are in the table below.',
      volBarCaption: 'Count by event (outcome)',
      volBarAlt: 'Bar chart of counts by event. The numbers are in the table below.',
      volTableHeading: 'Numbers',
      volEventTableHeading: 'Totals by event (outcome)',
      colPeriod: 'Period',
      colGroup: 'Group',
      colCount: 'Count',
      colEvent: 'Event',
      colTotal: 'Total',
      noRows: 'No records match.',
      others: 'Others',
      refusalsHeading: 'Refusal rates and reasons',
      refusalsHelp: 'Refusal rate = refused ÷ (accepted + refused): the share of inquiries the core refused (against the permitted links and its other checks).',
      refLineCaption: 'Refusal rate per period',
      refLineAlt: 'Line chart of refusal rates. The numbers are in the table below.',
      refBarCaption: 'Reasons for refusal',
      refBarAlt: 'Bar chart of refusals by reason. The numbers are in the table below.',
      refTableHeading: 'Refusal rate per period',
      reasonTableHeading: 'Reasons for refusal',
      colAccepted: 'Accepted',
      colRefused: 'Refused',
      colRate: 'Refusal rate',
      colReason: 'Reason',
      refRateSeries: 'Refusal rate (%)',
      anomaliesHeading: 'Anomalies',
      anomaliesHelp: 'A flag is a lead to look into, not a finding of misconduct.',
      anomStatusFilter: 'Status',
      statusAll: 'All',
      status_open: 'Open',
      status_under_review: 'Under review',
      status_closed: 'Closed',
      rule_volume: 'Volume surge',
      rule_refusal_burst: 'Refusal burst',
      rule_person_focus: 'Person focus',
      rule_off_hours: 'Off-hours use',
      colRule: 'Rule',
      colAgency: 'Agency',
      colWindow: 'Window',
      colCountThreshold: 'Count / threshold',
      colExplanation: 'Explanation',
      colStatus: 'Status',
      colNote: 'Note',
      colRecords: 'Records',
      open: 'Details',
      openLabel: 'Open anomaly {id}',
      noAnomalies: 'No anomalies match.',
      expl_volume: '',
      expl_refusal_burst: '',
      expl_person_focus: '',
      expl_off_hours: '',
      anomDetailHeading: 'Anomaly details',
      factId: 'Id',
      factFirstSeen: 'First seen',
      factUpdated: 'Last updated',
      factUpdatedValue: '{time} ({name})',
      factHeadSize: 'Tree head the proofs lead to',
      truncated: 'Too many records: only the first {n} are shown.',
      checkProofs: 'Check proofs',
      checkingProofs: 'Checking…',
      proofAllOk: 'All {n} records\' inclusion proofs lead to the signed tree head ({size} records), signed by the trusted records key.',
      proofFailed: '{failed} of {n} records fail their inclusion proofs: the record was altered or its proof is wrong.',
      proofBadHead: 'The tree head\'s signature is not valid.',
      proofWrongKey: 'The tree head is signed by a key ({key}…) other than the records key the desk trusts.',
      proofOk: '✓',
      proofBad: '✗',
      proofOkLabel: 'proof holds',
      proofBadLabel: 'proof fails',
      colSeq: 'Seq.',
      colTime: 'Time (JST)',
      colInquirer: 'Inquirer',
      colProvider: 'Provider',
      colBusiness: 'Business',
      colItem: 'Item',
      colRequest: 'Request id',
      colOutcome: 'Outcome',
      colSymbol: 'Record symbol',
      colProof: 'Proof',
      statusLegend: 'Change status',
      statusLabel: 'Status',
      noteLabel: 'Note (required to close; up to 2,000 characters)',
      statusSave: 'Save',
      noteRequired: 'Write a note to close the anomaly.',
      noteTooLong: 'The note is limited to 2,000 characters.',
      statusSaved: 'Status set to "{status}".',
      headsHeading: 'Head history',
      headsHelp: 'Every committed head was verified to extend the one before it (consistency). Heads that failed verification are listed as findings below; their records are not counted.',
      findingsHeading: 'Findings',
      headsTableHeading: 'Committed heads',
      findingsNone: 'No findings.',
      findingsSome: '{n} finding(s): the core\'s records may have been altered or the log\'s history rewritten.',
      colTreeSize: 'Tree size',
      colHeadTime: 'Head time',
      colRoot: 'Root hash',
      colCommitted: 'Committed',
      colConsistent: 'Consistency',
      consistent: '✓ verified',
      colFound: 'Found',
      colHeadSize: 'Head size',
      colKind: 'Kind',
      colDetail: 'Detail',
      kind_bad_signature: 'bad signature',
      kind_inconsistent: 'inconsistent (altered or rewritten)',
      kind_not_contiguous: 'records not contiguous',
      kind_too_many: 'too many findings',
      noHeads: 'No head committed yet.',
      feesHeading: 'Fee statement',
      feeQuarter: 'Quarter (e.g. 2026Q3)',
      feeCsv: 'Download CSV',
      feePrint: 'Print',
      feeHelp: 'Chargeable: the first "provided" record of each exchange (inquiring agency and request id), by JST calendar quarter.',
      badQuarter: 'Enter the quarter as 2026Q3.',
      feeTitle: 'Provision fee statement, {year} Q{q} ({from} to {to})',
      feeTariff: 'Tariff',
      feeTariffValue: 'version {version} (from {from}, SHA-256 {digest}…)',
      feeHead: 'Tree head the records were proven against',
      feeHeadValue: '{size} records',
      feeChargeable: 'Chargeable exchanges',
      feeTotal: 'Total',
      colExchanges: 'Exchanges',
      colRatePer: 'Per exchange',
      colAmount: 'Amount',
      feeSubtotal: '{agency} total',
      feeGrandTotal: 'Grand total',
      feeNoLines: 'No chargeable exchanges in this quarter.',
      yen: '¥{amount}',
      feesNoTariff: 'The desk has no tariff, so no statement can be made.',
      auditHeading: 'Audit log',
      auditHelp: 'Every view and action at this desk is recorded (newest first, up to 200).',
      colAt: 'Time',
      colWho: 'Investigator',
      colAction: 'Action',
      colChain: 'Chain',
      noAudit: 'No entries.',
      ev_inquiry_accepted: 'inquiry accepted',
      ev_inquiry_refused: 'inquiry refused',
      ev_forwarded: 'forwarded',
      ev_provided: 'provided',
      ev_not_held: 'not held',
      ev_failed: 'failed',
      ev_timed_out: 'timed out',
      ev_received: 'received',
      ev_operator_action: 'operator action',
      err_bad_request: 'The request was not valid.',
      err_unauthenticated: 'You are not logged in, or your session ended. Please log in again.',
      err_locked: 'This name is locked after repeated failures. Try again in about {minutes} minute(s).',
      err_not_found: 'Not found.',
      err_forbidden: 'This action is not allowed.',
      err_unavailable: 'The desk service is unavailable for now. Try again shortly.',
      err_finding: 'The pulled records failed verification and were not accepted (records may have been altered or removed). See the findings in the head history.',
      err_network: 'Could not reach the desk.',
      err_other: 'The desk returned an error ({status}).',
      err_unexpected: 'Something unexpected went wrong. Please reload the page.',
      err_badResponse: 'The desk\'s answer could not be read.',
      sessionEnded: 'Your session ended. Please log in again.',
      detail: ' (detail: {text})',
      noChart: 'Charts are unavailable (Chart.js did not load).',
    },
  };

  // Refusal reasons (the core's decision codes) and record outcomes in words.
  const REASON_WORDS = {
    ja: {
      UNKNOWN_INQUIRER: '照会機関が登録されていない', UNKNOWN_PROVIDER: '提供機関が登録されていない',
      INQUIRER_NOT_ACTIVE: '照会機関が利用停止中', PROVIDER_NOT_ACTIVE: '提供機関が利用停止中',
      NO_ASSESSMENT: '特定個人情報保護評価が未承認', NO_SUCH_LINK: '法令で認められた照会ではない',
      OUTSIDE_EFFECTIVE_PERIOD: '法令で認められた期間外', RATE_LIMITED: '照会が多すぎる（制限）',
      INVALID_SYMBOL: '符号が無効', NOT_ISSUED_TO_PROVIDER: '提供機関に符号が発行されていない',
      DUPLICATE_REQUEST: '照会番号の重複', MALFORMED: '形式の誤り', UNKNOWN_ITEM: '項目が不明',
      UNKNOWN_BUSINESS: '事務が不明',
      ACCEPTED: '受付', FORWARDED: '転送', PROVIDED: '提供', NOT_HELD: '該当なし', FAILED: '失敗',
      TIMED_OUT: '期限切れ', RECEIVED: '受領', NOT_RECEIVED: '受領できず', NOT_CONFIRMED: '受領の確認なし',
      UNREACHABLE: '提供機関に接続できず',
    },
    en: {
      UNKNOWN_INQUIRER: 'inquiring agency not registered', UNKNOWN_PROVIDER: 'providing agency not registered',
      INQUIRER_NOT_ACTIVE: 'inquiring agency suspended', PROVIDER_NOT_ACTIVE: 'providing agency suspended',
      NO_ASSESSMENT: 'privacy impact assessment not approved', NO_SUCH_LINK: 'not a permitted link',
      OUTSIDE_EFFECTIVE_PERIOD: 'outside the permitted period', RATE_LIMITED: 'rate limited',
      INVALID_SYMBOL: 'invalid symbol', NOT_ISSUED_TO_PROVIDER: 'no symbol issued to the provider',
      DUPLICATE_REQUEST: 'duplicate request id', MALFORMED: 'malformed inquiry', UNKNOWN_ITEM: 'unknown item',
      UNKNOWN_BUSINESS: 'unknown business',
      ACCEPTED: 'accepted', FORWARDED: 'forwarded', PROVIDED: 'provided', NOT_HELD: 'not held', FAILED: 'failed',
      TIMED_OUT: 'timed out', RECEIVED: 'received', NOT_RECEIVED: 'not received', NOT_CONFIRMED: 'receipt not confirmed',
      UNREACHABLE: 'provider unreachable',
    },
  };

  const EVENTS = ['inquiry_accepted', 'inquiry_refused', 'forwarded', 'provided', 'not_held', 'failed',
                  'timed_out', 'received', 'operator_action'];
  const INQUIRY_EVENTS = new Set(['inquiry_accepted', 'inquiry_refused']);
  const GROUP_KIND = { inquirer: 'agencies', business: 'businesses', item: 'items' };
  const PALETTE = ['#0b4f8a', '#d1495b', '#2e8540', '#e09f3e', '#6a4c93', '#00798c', '#8c564b',
                   '#c2185b', '#556b2f', '#5f6b7a', '#b8860b', '#1f77b4'];
  const VIEWS = ['overview', 'volumes', 'refusals', 'anomalies', 'heads', 'fees', 'audit'];

  // ===================================================================================
  // State and small helpers
  // ===================================================================================

  const state = {
    lang: 'ja',
    session: '',
    name: '',
    view: 'overview',
    names: { agencies: {}, businesses: {}, items: {} },
    summary: null,
    volumes: null,       // {query, rows: [{period, key, count}], events: {event: count}}
    refusals: null,      // {query, periods: [{period, accepted, refused}], reasons: [[reason, count]]}
    anomalies: null,     // [ANOMALY]
    detail: null,        // {anomaly, head, records, truncated, proof}
    heads: null,
    fees: null,
    audit: null,
    message: null,       // {kind, key, params, detail}
  };
  const renders = {};    // view → completed renders (data-render)
  const tokens = {};     // view → the latest load's token (stale answers are dropped)
  const charts = {};     // canvas id → Chart

  const $ = (id) => document.getElementById(id);

  function t(key, params) {
    const table = STRINGS[state.lang] || STRINGS.ja;
    let s = table[key] != null ? table[key] : (STRINGS.ja[key] != null ? STRINGS.ja[key] : key);
    if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (params[name] != null ? String(params[name]) : m));
    return s;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c != null) node.append(c);
    return node;
  }

  function codeOf(x) {
    if (x == null) return '';
    return typeof x === 'string' ? x : (x.code == null ? '' : String(x.code));
  }

  const numberFormats = {};
  function fmtNumber(n) {
    const locale = state.lang === 'ja' ? 'ja-JP' : 'en-US';
    if (!numberFormats[locale]) numberFormats[locale] = new Intl.NumberFormat(locale);
    return numberFormats[locale].format(n);
  }

  // JST, the same in both languages: "2026-07-01 09:00:00".
  function fmtTime(us) {
    if (!Number.isFinite(Number(us))) return '';
    const d = new Date(Math.floor(Number(us) / 1000) + 9 * 3600 * 1000);
    return d.toISOString().slice(0, 19).replace('T', ' ');
  }
  function fmtDay(us) { return fmtTime(us).slice(0, 10); }

  function shortHex(hex, n) {
    const s = String(hex || '');
    return s.length > n ? s.slice(0, n) : s;
  }

  function nameOf(kind, code) {
    const entry = state.names[kind] && state.names[kind][code];
    if (!entry) return '';
    return entry[state.lang] || entry.ja || entry.en || '';
  }

  // A code with its name in the page's language: "名前 CODE".
  function named(kind, x) {
    const code = codeOf(x);
    const name = nameOf(kind, code);
    const span = el('span', { class: 'named' });
    if (name) span.append(el('span', { class: 'name', text: name }), ' ');
    span.append(el('code', { text: code }));
    return span;
  }
  function namedText(kind, code) {
    const name = nameOf(kind, code);
    return name ? `${name} (${code})` : code;
  }

  function eventText(ev) {
    const key = `ev_${ev}`;
    return STRINGS.ja[key] ? t(key) : ev;
  }
  function reasonText(reason) {
    if (!reason) return '—';
    const words = (REASON_WORDS[state.lang] || REASON_WORDS.ja)[reason];
    return words ? `${words} (${reason})` : reason;
  }

  // A table: columns [{label, cls}], rows [{attrs, cells: [{content, attrs, cls}]}]. Each
  // cell carries its column's label (data-label) for the stacked phone layout.
  function makeTable(columns, rows, opts) {
    const table = el('table', { class: `data-table ${(opts && opts.cls) || ''}`.trim() });
    if (opts && opts.caption) table.append(el('caption', { class: 'visually-hidden', text: opts.caption }));
    const head = el('tr');
    for (const c of columns) head.append(el('th', { scope: 'col', class: c.cls, text: c.label }));
    table.append(el('thead', null, head));
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr', r.attrs);
      r.cells.forEach((cell, i) => {
        const attrs = Object.assign({ 'data-label': columns[i] ? columns[i].label : '' }, cell.attrs || {});
        const cls = [columns[i] && columns[i].cls, cell.cls].filter(Boolean).join(' ');
        if (cls) attrs.class = cls;
        const td = el(cell.th ? 'th' : 'td', attrs);
        if (cell.th) td.setAttribute('scope', 'row');
        const content = cell.content;
        if (Array.isArray(content)) td.append(...content.filter((x) => x != null));
        else if (content != null) td.append(content);
        tr.append(td);
      });
      body.append(tr);
    }
    table.append(body);
    return table;
  }

  function emptyNote(key) { return el('p', { class: 'empty', text: t(key) }); }

  // ===================================================================================
  // Messages and errors
  // ===================================================================================

  function setMessage(kind, key, params, detail) {
    state.message = key ? { kind, key, params, detail } : null;
    renderMessage();
  }

  function renderMessage() {
    const box = $('message');
    box.classList.remove('error', 'info', 'success');
    box.textContent = '';
    if (!state.message) { box.removeAttribute('data-key'); return; }
    box.classList.add(state.message.kind);
    box.dataset.key = state.message.key;
    box.append(t(state.message.key, state.message.params));
    if (state.message.detail) {
      box.append(el('span', { class: 'msg-detail', lang: 'en', text: t('detail', { text: state.message.detail }) }));
    }
  }

  class ApiError extends Error {
    constructor(status, code, serverMessage, retryAfterS) {
      super(code || `HTTP ${status}`);
      this.status = status;
      this.code = code;
      this.serverMessage = serverMessage;
      this.retryAfterS = retryAfterS;
    }
  }
  class UserError extends Error {
    constructor(key, params) { super(key); this.key = key; this.params = params; }
  }

  function reportError(e) {
    if (e instanceof UserError) { setMessage('error', e.key, e.params); return; }
    if (e instanceof ApiError) {
      const detail = typeof e.serverMessage === 'string' ? e.serverMessage.slice(0, 300) : '';
      if (e.status === 0) { setMessage('error', 'err_network'); return; }
      if (e.status === 401 || e.code === 'unauthenticated') {
        if (state.session) { endSession(); setMessage('error', 'sessionEnded'); return; }
        setMessage('error', 'err_unauthenticated');
        return;
      }
      if (e.code === 'locked' || e.status === 429) {
        const minutes = Math.max(1, Math.ceil((Number(e.retryAfterS) || 60) / 60));
        setMessage('error', 'err_locked', { minutes });
        return;
      }
      const key = `err_${e.code}`;
      if (e.code && STRINGS.ja[key]) setMessage('error', key, null, detail);
      else setMessage('error', 'err_other', { status: e.status }, detail);
      return;
    }
    setMessage('error', 'err_unexpected');
    if (root.console) console.error(e);  // for a developer; never shown
  }

  // ===================================================================================
  // The API: both halves of the session (cookie and X-Desk-Session header)
  // ===================================================================================

  const SESSION_KEY = 'ipn-desk-session';
  function storedSession() {
    try { return sessionStorage.getItem(SESSION_KEY) || ''; } catch (e) { return ''; }
  }
  function setSession(value) {
    try {
      if (value) sessionStorage.setItem(SESSION_KEY, value); else sessionStorage.removeItem(SESSION_KEY);
    } catch (e) { /* storage off: the session lasts as long as the page */ }
    state.session = value || '';
  }

  function headers(accept) {
    const h = { Accept: accept };
    if (state.session) h['X-Desk-Session'] = state.session;
    return h;
  }

  async function fail(response) {
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    const code = data && typeof data.error === 'string' ? data.error : '';
    const message = data && typeof data.message === 'string' ? data.message : '';
    const retry = data && Number.isFinite(data.retry_after_s) ? data.retry_after_s : NaN;
    return new ApiError(response.status, code, message, retry);
  }

  async function api(method, path, body) {
    const options = { method, credentials: 'same-origin', cache: 'no-store', headers: headers('application/json') };
    if (method !== 'GET') {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body || {});
    }
    let response;
    try { response = await fetch(path, options); } catch (e) { throw new ApiError(0, '', ''); }
    if (!response.ok) throw await fail(response);
    try { return await response.json(); } catch (e) { throw new UserError('err_badResponse'); }
  }

  async function download(path, filename) {
    let response;
    try {
      response = await fetch(path, { credentials: 'same-origin', cache: 'no-store', headers: headers('text/csv') });
    } catch (e) { throw new ApiError(0, '', ''); }
    if (!response.ok) throw await fail(response);
    const url = URL.createObjectURL(await response.blob());
    const link = el('a', { href: url, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  function query(params) {
    const parts = [];
    for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) parts.push(`${k}=${encodeURIComponent(v)}`);
    return parts.length ? `?${parts.join('&')}` : '';
  }

  // Runs a user action, reporting what it throws.
  async function run(action) {
    try { await action(); } catch (e) { reportError(e); }
  }

  // A view's load: marks the section loading, drops answers overtaken by a newer load,
  // and counts completed renders (data-render) so a test can wait for the next one.
  async function load(view, fetcher, render) {
    const token = (tokens[view] || 0) + 1;
    tokens[view] = token;
    const section = $(`${view}-view`);
    section.dataset.state = 'loading';
    section.setAttribute('aria-busy', 'true');
    try {
      const data = await fetcher();
      if (tokens[view] !== token) return;
      render(data);
      renders[view] = (renders[view] || 0) + 1;
      section.dataset.render = String(renders[view]);
      section.dataset.state = 'ready';
    } catch (e) {
      if (tokens[view] === token) section.dataset.state = 'error';
      throw e;
    } finally {
      if (tokens[view] === token) section.removeAttribute('aria-busy');
    }
  }

  // ===================================================================================
  // Log-in, log-out, views
  // ===================================================================================

  async function onLogin() {
    const name = $('login-name').value.trim();
    const password = $('login-password').value;
    const code = $('login-code').value.trim();
    if (!name || !password || !code) throw new UserError('loginMissing');
    if (!/^[0-9]{6}$/.test(code)) { $('login-code').focus(); throw new UserError('codeFormat'); }
    setMessage('info', 'loggingIn');
    let data;
    try {
      data = await api('POST', '/api/login', { name, password, code });
    } catch (e) {
      $('login-code').value = '';
      if (e instanceof ApiError && e.status === 401) throw new UserError('loginFailed');
      throw e;
    }
    if (!data || typeof data.session !== 'string' || !data.session) throw new UserError('err_badResponse');
    $('login-password').value = '';
    $('login-code').value = '';
    setSession(data.session);
    state.name = typeof data.name === 'string' ? data.name : name;
    setMessage('success', 'loggedIn');
    await enterDesk();
  }

  async function enterDesk() {
    $('loading-view').hidden = true;
    $('login-view').hidden = true;
    $('views-nav').hidden = false;
    $('logout').hidden = false;
    renderWho();
    try {
      const names = await api('GET', '/api/names');
      state.names = {
        agencies: (names && names.agencies) || {}, businesses: (names && names.businesses) || {},
        items: (names && names.items) || {},
      };
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      reportError(e);  // names are a nicety: codes still show
    }
    renderAgencyOptions();
    const fromHash = location.hash.replace(/^#/, '');
    await showView(VIEWS.includes(fromHash) ? fromHash : 'overview');
  }

  function endSession() {
    setSession('');
    state.name = '';
    state.summary = state.volumes = state.refusals = state.anomalies = state.detail = null;
    state.heads = state.fees = state.audit = null;
    for (const id of Object.keys(charts)) { charts[id].destroy(); delete charts[id]; }
    $('views-nav').hidden = true;
    $('logout').hidden = true;
    $('who').hidden = true;
    $('filter-form').hidden = true;
    for (const v of VIEWS) {
      $(`${v}-view`).hidden = true;
      $(`${v}-view`).dataset.state = '';
      tokens[v] = (tokens[v] || 0) + 1;  // answers still on their way are dropped
    }
    $('anom-detail').hidden = true;
    $('loading-view').hidden = true;
    $('login-view').hidden = false;
  }

  async function onLogout() {
    try { await api('POST', '/api/logout'); } catch (e) { /* the session ends here anyway */ }
    endSession();
    setMessage('info', 'loggedOut');
    $('login-name').focus();
  }

  function renderWho() {
    const who = $('who');
    who.hidden = !state.name;
    who.textContent = state.name ? t('who', { name: state.name }) : '';
  }

  async function showView(view) {
    state.view = view;
    setMessage(null);  // a message belongs to the view it was given on
    for (const v of VIEWS) $(`${v}-view`).hidden = v !== view;
    for (const b of document.querySelectorAll('#views-nav button')) {
      if (b.dataset.view === view) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    }
    const filter = $('filter-form');
    filter.hidden = view !== 'volumes' && view !== 'refusals';
    filter.classList.toggle('for-refusals', view === 'refusals');
    if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
    await loadView(view);
  }

  function loadView(view) {
    switch (view) {
      case 'overview': return loadSummary();
      case 'volumes': return loadVolumes();
      case 'refusals': return loadRefusals();
      case 'anomalies': return loadAnomalies();
      case 'heads': return loadHeads();
      case 'fees': return loadFees();
      case 'audit': return loadAudit();
      default: return undefined;
    }
  }

  // ===================================================================================
  // Overview
  // ===================================================================================

  function loadSummary() {
    return load('overview', () => api('GET', '/api/summary'), (s) => { state.summary = s; renderSummary(); });
  }

  function renderSummary() {
    const s = state.summary;
    if (!s) return;
    const size = $('ov-size');
    size.dataset.value = String(s.size);
    size.textContent = fmtNumber(s.size) + (s.staged ? t('ovStaged', { staged: fmtNumber(s.staged) }) : '');
    const head = $('ov-head');
    head.dataset.size = s.head ? String(s.head.tree_size) : '';
    head.textContent = s.head ? t('ovHeadValue', { size: fmtNumber(s.head.tree_size), time: fmtTime(s.head.timestamp_us) })
                              : t('ovNoHead');
    const pull = $('ov-last-pull');
    const lp = s.last_pull;
    pull.dataset.ok = lp ? String(!!lp.ok) : '';
    pull.textContent = !lp ? t('ovNever')
      : lp.ok ? t('ovPullOk', { time: fmtTime(lp.at_us), added: fmtNumber(lp.added) })
        : t('ovPullFailed', { time: fmtTime(lp.at_us), error: lp.error || '' });
    pull.classList.toggle('bad', !!lp && !lp.ok);
    const findings = $('ov-findings');
    findings.dataset.value = String(s.findings);
    findings.textContent = fmtNumber(s.findings);
    findings.classList.toggle('bad', s.findings > 0);
    const open = $('ov-open-anomalies');
    open.dataset.value = String(s.open_anomalies);
    open.textContent = fmtNumber(s.open_anomalies);
    $('ov-records-key').textContent = s.records_key || '';
    if (typeof s.investigator === 'string' && s.investigator && !state.name) { state.name = s.investigator; renderWho(); }
  }

  async function onPullNow() {
    setMessage('info', 'pulling');
    let r;
    try {
      r = await api('POST', '/api/pull');
    } catch (e) {
      // A refused pull is a finding: show the figures as they now stand, then say why.
      if (e instanceof ApiError && e.status !== 401) await loadView(state.view).catch(() => {});
      throw e;
    }
    setMessage('success', 'pulled', { added: fmtNumber(r.added), size: fmtNumber(r.head_size) });
    await loadView(state.view);
  }

  // ===================================================================================
  // Filters, volumes and refusal rates
  // ===================================================================================

  function renderAgencyOptions() {
    const select = $('f-agency');
    const current = select.value;
    while (select.options.length > 1) select.remove(1);
    for (const code of Object.keys(state.names.agencies).sort()) {
      select.append(el('option', { value: code, text: namedText('agencies', code) }));
    }
    select.value = current;
    if (select.value !== current) select.value = '';
  }

  function lastDayOf(month) {
    const [y, m] = month.split('-').map(Number);
    return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
  }

  function onGranularityChange() {
    const day = $('f-granularity').value === 'day';
    for (const [id, isTo] of [['f-from', false], ['f-to', true]]) {
      const input = $(id);
      const v = input.value;
      input.type = day ? 'date' : 'month';
      if (!v) { input.value = ''; continue; }
      if (day && /^\d{4}-\d{2}$/.test(v)) input.value = isTo ? lastDayOf(v) : `${v}-01`;
      else if (!day && /^\d{4}-\d{2}-\d{2}$/.test(v)) input.value = v.slice(0, 7);
    }
  }

  function filterValues() {
    const granularity = $('f-granularity').value === 'day' ? 'day' : 'month';
    const pattern = granularity === 'day' ? /^\d{4}-\d{2}-\d{2}$/ : /^\d{4}-\d{2}$/;
    const from = $('f-from').value.trim();
    const to = $('f-to').value.trim();
    for (const v of [from, to]) if (v && !pattern.test(v)) throw new UserError('badPeriod');
    if (from && to && from > to) throw new UserError('badRange');
    return { granularity, from, to, inquirer: $('f-agency').value, group: $('f-group').value,
             measure: $('f-measure').value === 'records' ? 'records' : 'inquiries' };
  }

  function loadVolumes() {
    const f = filterValues();
    const base = { granularity: f.granularity, from: f.from, to: f.to, inquirer: f.inquirer };
    return load('volumes', async () => {
      const [main, byEvent] = await Promise.all([
        api('GET', '/api/volumes' + query(Object.assign({}, base, { group_by: f.measure === 'records' ? f.group : 'none' }))),
        api('GET', '/api/volumes' + query(Object.assign({}, base, { group_by: 'event' }))),
      ]);
      const cells = new Map();
      for (const r of (main && main.rows) || []) {
        if (f.measure === 'inquiries' && !INQUIRY_EVENTS.has(r.event)) continue;
        const key = String(r[f.group] || '');
        const id = `${r.period}\u0000${key}`;
        const c = cells.get(id) || { period: r.period, key, count: 0 };
        c.count += Number(r.count) || 0;
        cells.set(id, c);
      }
      const rows = [...cells.values()].sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1
        : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const events = {};
      for (const r of (byEvent && byEvent.rows) || []) events[r.event] = (events[r.event] || 0) + (Number(r.count) || 0);
      return { query: f, rows, events };
    }, (v) => { state.volumes = v; renderVolumes(); });
  }

  // An event keeps its colour in every chart.
  function eventColor(ev) {
    const i = EVENTS.indexOf(ev);
    return PALETTE[(i < 0 ? EVENTS.length : i) % PALETTE.length];
  }

  function groupLabel(group, key) {
    if (group === 'event') return eventText(key);
    return namedText(GROUP_KIND[group], key);
  }
  function groupCell(group, key) {
    if (group === 'event') return el('span', null, eventText(key), ' ', el('code', { text: key }));
    return named(GROUP_KIND[group], key);
  }

  function renderVolumes() {
    const v = state.volumes;
    if (!v) return;
    const q = v.query;
    const groupKey = { inquirer: 'groupInquirer', business: 'groupBusiness', item: 'groupItem', event: 'groupEvent' }[q.group];
    $('vol-caption').textContent = t('volCaption', {
      measure: t(q.measure === 'records' ? 'measureRecords' : 'measureInquiries'), group: t(groupKey),
      agency: q.inquirer ? namedText('agencies', q.inquirer) : t('allAgencies') });
    const box = $('vol-table');
    box.textContent = '';
    if (!v.rows.length) box.append(emptyNote('noRows'));
    else {
      box.append(makeTable(
        [{ label: t('colPeriod') }, { label: t('colGroup') }, { label: t('colCount'), cls: 'num' }],
        v.rows.map((r) => ({
          attrs: { 'data-period': r.period, 'data-key': r.key },
          cells: [{ content: r.period, th: true }, { content: groupCell(q.group, r.key) },
                  { content: fmtNumber(r.count), attrs: { 'data-period': r.period, 'data-key': r.key, 'data-count': r.count } }],
        })), { caption: t('volTableHeading'), cls: 'vol' }));
    }
    const evBox = $('vol-event-table');
    evBox.textContent = '';
    const evKeys = EVENTS.filter((e) => v.events[e] != null).concat(Object.keys(v.events).filter((e) => !EVENTS.includes(e)));
    if (!evKeys.length) evBox.append(emptyNote('noRows'));
    else {
      evBox.append(makeTable([{ label: t('colEvent') }, { label: t('colTotal'), cls: 'num' }],
        evKeys.map((e) => ({ attrs: { 'data-event': e },
          cells: [{ content: groupCell('event', e), th: true },
                  { content: fmtNumber(v.events[e]), attrs: { 'data-event': e, 'data-count': v.events[e] } }] })),
        { caption: t('volEventTableHeading') }));
    }
    // Line chart: one series per group (the 11 largest, the rest as "others").
    const periods = [...new Set(v.rows.map((r) => r.period))].sort();
    const totals = new Map();
    for (const r of v.rows) totals.set(r.key, (totals.get(r.key) || 0) + r.count);
    const keys = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || (a < b ? -1 : 1));
    const shown = keys.length > 12 ? keys.slice(0, 11) : keys;
    const series = shown.map((k) => ({ label: groupLabel(q.group, k), key: k, data: periods.map(() => 0),
                                       color: q.group === 'event' ? eventColor(k) : undefined }));
    const others = keys.length > 12 ? { label: t('others'), data: periods.map(() => 0) } : null;
    const index = new Map(shown.map((k, i) => [k, i]));
    for (const r of v.rows) {
      const p = periods.indexOf(r.period);
      const i = index.get(r.key);
      if (i != null) series[i].data[p] += r.count; else if (others) others.data[p] += r.count;
    }
    if (others) series.push(others);
    drawChart('vol-line', 'line', periods, series);
    drawChart('vol-bar', 'bar', evKeys.map(eventText), [{ label: t('colCount'), data: evKeys.map((e) => v.events[e]) }],
              { legend: false, colors: evKeys.map(eventColor) });
  }

  function loadRefusals() {
    const f = filterValues();
    return load('refusals', async () => {
      const data = await api('GET', '/api/volumes' + query({ granularity: f.granularity, from: f.from, to: f.to,
                                                             inquirer: f.inquirer, group_by: 'event' }));
      const periods = new Map();
      const reasons = new Map();
      for (const r of (data && data.rows) || []) {
        if (!INQUIRY_EVENTS.has(r.event)) continue;
        const p = periods.get(r.period) || { period: r.period, accepted: 0, refused: 0 };
        const n = Number(r.count) || 0;
        if (r.event === 'inquiry_accepted') p.accepted += n;
        else { p.refused += n; reasons.set(r.reason || '', (reasons.get(r.reason || '') || 0) + n); }
        periods.set(r.period, p);
      }
      return { query: f, periods: [...periods.values()].sort((a, b) => (a.period < b.period ? -1 : 1)),
               reasons: [...reasons.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)) };
    }, (r) => { state.refusals = r; renderRefusals(); });
  }

  function rateOf(p) {
    const n = p.accepted + p.refused;
    return n ? p.refused / n : null;
  }
  function fmtRate(rate) {
    return rate == null ? '—' : `${(rate * 100).toFixed(2)}%`;
  }

  function renderRefusals() {
    const r = state.refusals;
    if (!r) return;
    const box = $('ref-table');
    box.textContent = '';
    if (!r.periods.length) box.append(emptyNote('noRows'));
    else {
      box.append(makeTable([{ label: t('colPeriod') }, { label: t('colAccepted'), cls: 'num' },
                            { label: t('colRefused'), cls: 'num' }, { label: t('colRate'), cls: 'num' }],
        r.periods.map((p) => {
          const rate = rateOf(p);
          return { attrs: { 'data-period': p.period, 'data-accepted': p.accepted, 'data-refused': p.refused,
                            'data-rate': rate == null ? '' : rate.toFixed(6) },
                   cells: [{ content: p.period, th: true }, { content: fmtNumber(p.accepted) },
                           { content: fmtNumber(p.refused) }, { content: fmtRate(rate) }] };
        }), { caption: t('refTableHeading') }));
    }
    const rbox = $('reason-table');
    rbox.textContent = '';
    if (!r.reasons.length) rbox.append(emptyNote('noRows'));
    else {
      rbox.append(makeTable([{ label: t('colReason') }, { label: t('colCount'), cls: 'num' }],
        r.reasons.map(([reason, n]) => ({ attrs: { 'data-reason': reason, 'data-count': n },
          cells: [{ content: reasonText(reason), th: true }, { content: fmtNumber(n) }] })),
        { caption: t('reasonTableHeading') }));
    }
    drawChart('ref-line', 'line', r.periods.map((p) => p.period),
              [{ label: t('refRateSeries'), data: r.periods.map((p) => { const x = rateOf(p); return x == null ? null : +(x * 100).toFixed(3); }) }],
              { legend: false, percent: true });
    drawChart('ref-bar', 'bar', r.reasons.map(([reason]) => reasonText(reason)),
              [{ label: t('colCount'), data: r.reasons.map(([, n]) => n) }], { legend: false, horizontal: true });
  }

  // ===================================================================================
  // Charts (Chart.js: responsive, no animation, sized by their box)
  // ===================================================================================

  function drawChart(id, type, labels, series, opts) {
    const o = opts || {};
    if (charts[id]) { charts[id].destroy(); delete charts[id]; }
    const canvas = $(id);
    const box = canvas.parentElement;
    const old = box.querySelector('.chart-missing');
    if (old) old.remove();
    if (typeof root.Chart !== 'function') {
      box.append(el('p', { class: 'chart-missing', text: t('noChart') }));
      return;
    }
    const datasets = series.map((s, i) => {
      const color = s.color || PALETTE[i % PALETTE.length];
      return { label: s.label, data: s.data, borderColor: color, backgroundColor: type === 'bar' ? color + 'cc' : color,
               borderWidth: 2, pointRadius: labels.length > 40 ? 0 : 3, tension: 0, spanGaps: true };
    });
    if (type === 'bar' && series.length === 1) {
      const colors = o.colors || labels.map((_, i) => PALETTE[i % PALETTE.length]);
      datasets[0].backgroundColor = colors.map((c) => c + 'cc');
      datasets[0].borderColor = colors;
    }
    const valueAxis = { beginAtZero: true, ticks: { precision: o.percent ? undefined : 0 } };
    if (o.percent) valueAxis.ticks.callback = (v) => `${v}%`;
    const categoryAxis = { ticks: { autoSkip: true, maxRotation: 60 } };
    charts[id] = new root.Chart(canvas, {
      type,
      data: { labels, datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: o.horizontal ? 'y' : 'x',
        plugins: { legend: { display: o.legend !== false, position: 'bottom', labels: { boxWidth: 12 } } },
        scales: o.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        locale: state.lang === 'ja' ? 'ja-JP' : 'en-US',
      },
    });
  }

  // ===================================================================================
  // Anomalies
  // ===================================================================================

  function loadAnomalies() {
    const status = $('anom-status-filter').value;
    return load('anomalies', () => api('GET', '/api/anomalies' + query({ status })),
                (data) => { state.anomalies = (data && data.anomalies) || []; renderAnomalies(); });
  }

  function fmtThreshold(x) {
    const n = Number(x);
    if (!Number.isFinite(n)) return String(x);
    return Number.isInteger(n) ? fmtNumber(n) : fmtNumber(Math.round(n * 100) / 100);
  }

  // The window: volume and off_hours windows are [from, to); the other two inclusive.
  function windowText(a) {
    if (a.rule === 'off_hours') return fmtDay(a.from_us);
    const to = a.rule === 'volume' ? fmtTime(a.to_us) : fmtTime(a.to_us);
    return `${fmtTime(a.from_us)} – ${to}`;
  }

  // A finding in the page's language; the desk's own sentence beside it in Japanese.
  function findingText(f) {
    const box = el('span', { class: 'explanation' });
    const key = `findingText_${f.kind}`;
    if (state.lang === 'ja' && STRINGS.ja[key]) {
      box.append(el('span', { text: t(key, { size: fmtNumber(f.head_size) }) }));
      box.append(el('span', { class: 'original', lang: 'en', text: f.detail || '' }));
    } else {
      box.append(el('span', { lang: 'en', text: f.detail || '' }));
    }
    return box;
  }

  function explanation(a) {
    const box = el('span', { class: 'explanation' });
    const key = `expl_${a.rule}`;
    if (state.lang === 'ja' && STRINGS.ja[key]) {
      box.append(el('span', { text: t(key, {
        agency: namedText('agencies', a.agency),
        from: a.rule === 'off_hours' ? fmtDay(a.from_us) : fmtTime(a.from_us),
        to: fmtTime(a.to_us), count: fmtNumber(a.count), threshold: fmtThreshold(a.threshold) }) }));
      box.append(el('span', { class: 'original', lang: 'en', text: a.explanation || '' }));
    } else {
      box.append(el('span', { lang: 'en', text: a.explanation || '' }));
    }
    return box;
  }

  function statusBadge(status) {
    return el('span', { class: `status status-${status}`, 'data-status': status, text: t(`status_${status}`) });
  }

  function renderAnomalies() {
    const list = state.anomalies;
    const box = $('anom-list');
    box.textContent = '';
    if (!list) return;
    if (!list.length) box.append(emptyNote('noAnomalies'));
    else {
      box.append(makeTable([
        { label: t('colRule') }, { label: t('colAgency') }, { label: t('colWindow') },
        { label: t('colCountThreshold'), cls: 'num' }, { label: t('colExplanation'), cls: 'wide' },
        { label: t('colStatus') }, { label: t('colNote') }, { label: '' }],
      list.map((a) => ({
        attrs: { 'data-anomaly-id': a.id, 'data-rule': a.rule, 'data-agency': a.agency, 'data-status': a.status,
                 'data-count': a.count, class: state.detail && state.detail.anomaly.id === a.id ? 'selected' : null },
        cells: [
          { content: t(`rule_${a.rule}`), th: true }, { content: named('agencies', a.agency) },
          { content: windowText(a) },
          { content: `${fmtNumber(a.count)} / ${fmtThreshold(a.threshold)}` },
          { content: explanation(a), attrs: { 'data-explanation': a.explanation || '' } },
          { content: statusBadge(a.status) }, { content: a.note || '', cls: 'note-cell' },
          { content: el('button', { type: 'button', class: 'anom-open', 'data-id': a.id,
                                    'aria-label': t('openLabel', { id: a.id }), text: t('open') }) },
        ] })), { caption: t('anomaliesHeading'), cls: 'anomalies' }));
    }
  }

  async function openAnomaly(id) {
    const data = await api('GET', `/api/anomalies/${encodeURIComponent(id)}`);
    if (!data || !data.anomaly || !data.head || !Array.isArray(data.records)) throw new UserError('err_badResponse');
    state.detail = { anomaly: data.anomaly, head: data.head, records: data.records, truncated: !!data.truncated,
                     proof: null };
    const section = $('anom-detail');
    section.hidden = false;
    section.dataset.id = data.anomaly.id;
    renders.detail = (renders.detail || 0) + 1;
    section.dataset.render = String(renders.detail);
    $('status-select').value = data.anomaly.status;
    $('status-note').value = data.anomaly.note || '';
    renderDetail();
    renderAnomalies();
    $('anom-detail-heading').focus();
  }

  function fact(label, value, attrs) {
    return el('div', attrs, el('dt', { text: label }), el('dd', null, value));
  }

  function renderDetail() {
    const d = state.detail;
    if (!d) return;
    const a = d.anomaly;
    const facts = $('anom-facts');
    facts.textContent = '';
    facts.append(
      fact(t('factId'), el('code', { text: a.id })),
      fact(t('colRule'), t(`rule_${a.rule}`)),
      fact(t('colAgency'), named('agencies', a.agency)),
      fact(t('colWindow'), windowText(a)),
      fact(t('colCountThreshold'), `${fmtNumber(a.count)} / ${fmtThreshold(a.threshold)}`),
      fact(t('colExplanation'), explanation(a), { class: 'wide' }),
      fact(t('colStatus'), statusBadge(a.status)),
      fact(t('colNote'), a.note || '—'),
      fact(t('factFirstSeen'), fmtTime(a.first_seen_us)),
      fact(t('factUpdated'), !a.updated_us ? '—' : a.updated_by
        ? t('factUpdatedValue', { time: fmtTime(a.updated_us), name: a.updated_by }) : fmtTime(a.updated_us)),
      fact(t('factHeadSize'), t('feeHeadValue', { size: fmtNumber(d.head.tree_size) })),
    );
    const trunc = $('anom-truncated');
    trunc.hidden = !d.truncated;
    trunc.textContent = d.truncated ? t('truncated', { n: fmtNumber(d.records.length) }) : '';
    const failed = d.proof ? new Set(d.proof.failed.map(String)) : null;
    const box = $('anom-records');
    box.textContent = '';
    box.append(makeTable([
      { label: t('colSeq'), cls: 'num' }, { label: t('colTime'), cls: 'nowrap' }, { label: t('colEvent') },
      { label: t('colInquirer') }, { label: t('colProvider') }, { label: t('colBusiness') }, { label: t('colItem') },
      { label: t('colRequest') }, { label: t('colOutcome') }, { label: t('colSymbol') }, { label: t('colProof') }],
    d.records.map((r) => {
      const bad = failed ? failed.has(String(r.sequence)) || !d.proof.headOk || !d.proof.keyOk : null;
      const proof = failed == null ? { text: '', state: '' }
        : bad ? { text: t('proofBad'), state: 'bad', label: t('proofBadLabel') }
          : { text: t('proofOk'), state: 'ok', label: t('proofOkLabel') };
      return {
        attrs: { 'data-sequence': r.sequence, class: proof.state === 'bad' ? 'bad' : null },
        cells: [
          { content: String(r.sequence), th: true }, { content: r.time_unix_us != null ? fmtTime(r.time_unix_us) : (r.time || '') },
          { content: eventText(r.event) }, { content: named('agencies', r.inquirer) },
          { content: named('agencies', r.provider) }, { content: named('businesses', r.business) },
          { content: named('items', r.item) }, { content: el('code', { text: r.request_id || '' }) },
          { content: r.outcome ? reasonText(r.outcome).replace(/^—$/, '') : '' },
          { content: el('code', { title: r.record_symbol || '', text: `${shortHex(r.record_symbol, 12)}…` }) },
          { content: proof.text ? el('span', { 'aria-label': proof.label, text: proof.text }) : '', cls: 'proof',
            attrs: { 'data-proof': proof.state } },
        ] };
    }), { caption: t('anomDetailHeading'), cls: 'records' }));
    renderVerdict();
  }

  function renderVerdict() {
    const d = state.detail;
    const v = $('proof-verdict');
    v.classList.remove('good', 'bad');
    if (!d || !d.proof) {
      v.textContent = '';
      v.dataset.ok = '';
      v.dataset.checked = '0';
      v.removeAttribute('data-failed');
      return;
    }
    const p = d.proof;
    v.dataset.ok = String(p.ok);
    v.dataset.checked = String(p.total);
    v.dataset.failed = String(p.failed.length);
    v.classList.add(p.ok ? 'good' : 'bad');
    if (!p.headOk) v.textContent = t('proofBadHead');
    else if (!p.keyOk) v.textContent = t('proofWrongKey', { key: shortHex(p.signer, 16) });
    else if (p.failed.length) v.textContent = t('proofFailed', { failed: fmtNumber(p.failed.length), n: fmtNumber(p.total) });
    else v.textContent = t('proofAllOk', { n: fmtNumber(p.total), size: fmtNumber(p.treeSize) });
  }

  async function onCheckProofs() {
    const d = state.detail;
    if (!d) return;
    const verdict = $('proof-verdict');
    verdict.dataset.ok = '';
    verdict.dataset.checked = '0';
    verdict.classList.remove('good', 'bad');
    verdict.textContent = t('checkingProofs');
    if (!root.ipnVerify) throw new UserError('err_unexpected');
    // The records key the desk trusts, as the desk states it.
    if (!state.summary || !state.summary.records_key) state.summary = await api('GET', '/api/summary');
    const result = await root.ipnVerify.verifyRecords(d.records, d.head);
    if (state.detail !== d) return;
    const keyOk = !!state.summary.records_key && String(d.head.signer || '').toLowerCase() ===
                  String(state.summary.records_key).toLowerCase();
    d.proof = { headOk: result.headOk, keyOk, failed: result.failed, total: result.total,
                treeSize: result.treeSize, signer: result.signer,
                ok: result.headOk && keyOk && result.failed.length === 0 };
    renderDetail();
  }

  async function onStatusSave() {
    const d = state.detail;
    if (!d) return;
    const status = $('status-select').value;
    const note = $('status-note').value.trim();
    if (status === 'closed' && !note) { $('status-note').focus(); throw new UserError('noteRequired'); }
    if (note.length > 2000) { $('status-note').focus(); throw new UserError('noteTooLong'); }
    const updated = await api('POST', `/api/anomalies/${encodeURIComponent(d.anomaly.id)}/status`, { status, note });
    if (updated && updated.id === d.anomaly.id) d.anomaly = updated;
    setMessage('success', 'statusSaved', { status: t(`status_${status}`) });
    renderDetail();
    await loadAnomalies();
  }

  // ===================================================================================
  // Head history
  // ===================================================================================

  function loadHeads() {
    return load('heads', () => api('GET', '/api/heads'), (data) => { state.heads = data || { heads: [], findings: [] }; renderHeads(); });
  }

  function renderHeads() {
    const h = state.heads;
    if (!h) return;
    const findings = Array.isArray(h.findings) ? h.findings : [];
    const heads = Array.isArray(h.heads) ? h.heads : [];
    const count = $('findings-count');
    count.dataset.count = String(findings.length);
    count.textContent = findings.length ? t('findingsSome', { n: fmtNumber(findings.length) }) : t('findingsNone');
    count.classList.toggle('bad', findings.length > 0);
    const fbox = $('findings-table');
    fbox.textContent = '';
    if (findings.length) {
      fbox.append(makeTable([{ label: t('colFound'), cls: 'nowrap' }, { label: t('colHeadSize'), cls: 'num' }, { label: t('colKind') },
                             { label: t('colDetail'), cls: 'wide' }],
        findings.map((f) => ({ attrs: { class: 'finding', 'data-finding': '', 'data-kind': f.kind, 'data-head-size': f.head_size },
          cells: [{ content: fmtTime(f.found_us), th: true }, { content: fmtNumber(f.head_size) },
                  { content: STRINGS.ja[`kind_${f.kind}`] ? t(`kind_${f.kind}`) : f.kind },
                  { content: findingText(f) }] })),
        { caption: t('findingsHeading'), cls: 'findings' }));
    }
    const hbox = $('heads-table');
    hbox.textContent = '';
    if (!heads.length) hbox.append(emptyNote('noHeads'));
    else {
      hbox.append(makeTable([{ label: t('colTreeSize'), cls: 'num' }, { label: t('colHeadTime'), cls: 'nowrap' }, { label: t('colRoot') },
                             { label: t('colCommitted'), cls: 'nowrap' }, { label: t('colConsistent') }],
        heads.map((x) => ({ attrs: { 'data-size': x.tree_size, 'data-root': x.root_hash },
          cells: [{ content: fmtNumber(x.tree_size), th: true }, { content: fmtTime(x.timestamp_us) },
                  { content: el('code', { title: x.root_hash, text: `${shortHex(x.root_hash, 16)}…` }) },
                  { content: fmtTime(x.committed_us) },
                  { content: t('consistent'), attrs: { 'data-consistent': 'true' }, cls: 'good-text' }] })),
        { caption: t('headsTableHeading') }));
    }
  }

  // ===================================================================================
  // Fee statement
  // ===================================================================================

  // The JST quarter before the one `ms` falls in: "2026Q2".
  function previousQuarter(ms) {
    const d = new Date(ms + 9 * 3600 * 1000);
    let y = d.getUTCFullYear();
    let q = Math.floor(d.getUTCMonth() / 3) + 1 - 1;
    if (q === 0) { q = 4; y -= 1; }
    return `${y}Q${q}`;
  }

  function quarterValue() {
    const input = $('fee-quarter');
    let v = input.value.trim().toUpperCase().replace(/^(\d{4})-?Q([1-4])$/, '$1Q$2');
    if (!v) { v = previousQuarter(Date.now()); input.value = v; }
    if (!/^\d{4}Q[1-4]$/.test(v)) { input.focus(); throw new UserError('badQuarter'); }
    input.value = v;
    return v;
  }

  function loadFees() {
    let quarter;
    try { quarter = quarterValue(); } catch (e) { return Promise.reject(e); }
    return load('fees', async () => {
      try {
        return await api('GET', '/api/fees' + query({ quarter }));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) throw new UserError('feesNoTariff');
        throw e;
      }
    }, (data) => { state.fees = data; renderFees(); });
  }

  function yen(amount) { return t('yen', { amount: String(amount) }); }

  function renderFees() {
    const s = state.fees;
    const box = $('fee-statement');
    box.textContent = '';
    if (!s) return;
    const m = /^(\d{4})Q([1-4])$/.exec(s.quarter || '');
    const year = m ? Number(m[1]) : 0;
    const q = m ? Number(m[2]) : 0;
    const first = m ? `${year}-${String(3 * q - 2).padStart(2, '0')}-01` : '';
    const last = m ? lastDayOf(`${year}-${String(3 * q).padStart(2, '0')}`) : '';
    box.dataset.quarter = s.quarter || '';
    box.append(el('h3', { class: 'statement-title', text: t('feeTitle', { year, q, from: first, to: last }) }));
    const meta = el('dl', { class: 'facts small' },
      fact(t('feeTariff'), t('feeTariffValue', { version: s.tariff_version, from: s.tariff_effective_from,
                                                 digest: shortHex(s.tariff_digest, 16) })),
      fact(t('feeHead'), t('feeHeadValue', { size: fmtNumber(s.head_tree_size) })),
      fact(t('feeChargeable'), fmtNumber(s.chargeable_exchanges), { id: 'fee-chargeable', 'data-value': s.chargeable_exchanges }),
      fact(t('feeTotal'), yen(s.total_yen), { id: 'fee-total', 'data-amount': s.total_yen }));
    box.append(meta);
    const lines = Array.isArray(s.lines) ? s.lines : [];
    if (!lines.length) { box.append(emptyNote('feeNoLines')); return; }
    const totals = new Map((s.inquirer_totals || []).map((x) => [x.inquirer, x.amount_yen]));
    const exchangesBy = new Map();
    for (const l of lines) exchangesBy.set(l.inquirer, (exchangesBy.get(l.inquirer) || 0) + Number(l.exchanges));
    const rows = [];
    lines.forEach((l, i) => {
      rows.push({ attrs: { class: 'fee-line', 'data-inquirer': l.inquirer, 'data-business': l.business, 'data-item': l.item,
                           'data-exchanges': l.exchanges, 'data-rate': l.yen_per_exchange, 'data-amount': l.amount_yen },
        cells: [{ content: named('agencies', l.inquirer), th: true }, { content: named('businesses', l.business) },
                { content: named('items', l.item) }, { content: fmtNumber(l.exchanges) },
                { content: yen(l.yen_per_exchange) }, { content: yen(l.amount_yen) }] });
      const next = lines[i + 1];
      if (!next || next.inquirer !== l.inquirer) {
        const amount = totals.has(l.inquirer) ? totals.get(l.inquirer) : '';
        rows.push({ attrs: { class: 'fee-total', 'data-inquirer': l.inquirer, 'data-exchanges': exchangesBy.get(l.inquirer),
                             'data-amount': amount },
          cells: [{ content: t('feeSubtotal', { agency: namedText('agencies', l.inquirer) }), th: true }, { content: '' },
                  { content: '' }, { content: fmtNumber(exchangesBy.get(l.inquirer)) }, { content: '' },
                  { content: yen(amount) }] });
      }
    });
    rows.push({ attrs: { class: 'fee-all', id: 'fee-grand-total', 'data-exchanges': s.chargeable_exchanges, 'data-amount': s.total_yen },
      cells: [{ content: t('feeGrandTotal'), th: true }, { content: '' }, { content: '' },
              { content: fmtNumber(s.chargeable_exchanges) }, { content: '' }, { content: yen(s.total_yen) }] });
    box.append(makeTable([{ label: t('colInquirer') }, { label: t('colBusiness') }, { label: t('colItem') },
                          { label: t('colExchanges'), cls: 'num' }, { label: t('colRatePer'), cls: 'num' },
                          { label: t('colAmount'), cls: 'num' }], rows, { caption: t('feesHeading'), cls: 'fees' }));
  }

  async function onFeeCsv() {
    const quarter = quarterValue();
    await download('/api/fees.csv' + query({ quarter }), `ipn-fees-${quarter}.csv`);
  }

  // ===================================================================================
  // Audit
  // ===================================================================================

  function loadAudit() {
    return load('audit', () => api('GET', '/api/audit?limit=200'), (data) => { state.audit = (data && data.entries) || []; renderAudit(); });
  }

  function renderAudit() {
    const entries = state.audit;
    const box = $('audit-table');
    box.textContent = '';
    if (!entries) return;
    if (!entries.length) { box.append(emptyNote('noAudit')); return; }
    box.append(makeTable([{ label: t('colSeq'), cls: 'num' }, { label: t('colAt'), cls: 'nowrap' }, { label: t('colWho') },
                          { label: t('colAction') }, { label: t('colDetail'), cls: 'wide' }, { label: t('colChain') }],
      entries.map((x) => ({ attrs: { 'data-seq': x.seq, 'data-action': x.action },
        cells: [{ content: String(x.seq), th: true }, { content: fmtTime(x.at_us) }, { content: x.who || '' },
                { content: x.action || '' }, { content: el('code', { text: x.detail || '' }) },
                { content: el('code', { title: x.chain || '', text: `${shortHex(x.chain, 12)}…` }) }] })),
      { caption: t('auditHeading'), cls: 'audit' }));
  }

  // ===================================================================================
  // Language
  // ===================================================================================

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t('title');
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
    const toggle = $('lang-toggle');
    toggle.textContent = state.lang === 'ja' ? 'English' : '日本語';
    toggle.lang = state.lang === 'ja' ? 'en' : 'ja';
    toggle.setAttribute('aria-label', t('langToggleLabel'));
    renderMessage();
    renderWho();
    renderAgencyOptions();
    renderSummary();
    renderVolumes();
    renderRefusals();
    renderAnomalies();
    renderDetail();
    renderHeads();
    renderFees();
    renderAudit();
    document.body.dataset.lang = state.lang;
  }

  function storedLanguage() {
    try { return localStorage.getItem('ipn-desk-lang'); } catch (e) { return null; }
  }

  function onToggleLanguage() {
    state.lang = state.lang === 'ja' ? 'en' : 'ja';
    try { localStorage.setItem('ipn-desk-lang', state.lang); } catch (e) { /* private mode */ }
    applyLanguage();
  }

  // ===================================================================================
  // Start
  // ===================================================================================

  function start() {
    state.lang = storedLanguage() === 'en' ? 'en' : 'ja';
    if (root.Chart && root.Chart.defaults) {
      root.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    }
    applyLanguage();
    $('lang-toggle').addEventListener('click', onToggleLanguage);
    $('login-form').addEventListener('submit', (e) => { e.preventDefault(); run(onLogin); });
    $('logout').addEventListener('click', () => run(onLogout));
    for (const b of document.querySelectorAll('#views-nav button')) {
      b.addEventListener('click', () => run(() => showView(b.dataset.view)));
    }
    $('pull-now').addEventListener('click', () => run(onPullNow));
    $('overview-refresh').addEventListener('click', () => run(loadSummary));
    $('f-granularity').addEventListener('change', onGranularityChange);
    $('filter-form').addEventListener('submit', (e) => { e.preventDefault(); run(() => loadView(state.view)); });
    $('anom-filter').addEventListener('submit', (e) => { e.preventDefault(); run(loadAnomalies); });
    $('anom-list').addEventListener('click', (e) => {
      const b = e.target.closest('button.anom-open');
      if (b) run(() => openAnomaly(b.dataset.id));
    });
    $('check-proofs').addEventListener('click', () => run(onCheckProofs));
    $('status-form').addEventListener('submit', (e) => { e.preventDefault(); run(onStatusSave); });
    $('fee-form').addEventListener('submit', (e) => { e.preventDefault(); run(loadFees); });
    $('fee-csv').addEventListener('click', () => run(onFeeCsv));
    $('fee-print').addEventListener('click', () => root.print());
    root.addEventListener('hashchange', () => {
      const v = location.hash.replace(/^#/, '');
      if (state.session && VIEWS.includes(v) && v !== state.view) run(() => showView(v));
    });
    run(async () => {
      state.session = storedSession();
      if (!state.session) { endSession(); return; }
      try {
        state.summary = await api('GET', '/api/summary');
        state.name = state.summary.investigator || '';
        await enterDesk();
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) { endSession(); return; }
        endSession();
        throw e;
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
