// 情報提供等記録開示 — the citizens' disclosure portal (plain JS, no build step).
//
// The page (enrolment, login, history). The verification functions it uses (records against
// the signed tree head, the completeness of a person's history) are verify.js's
// self.ipnVerify, which index.html loads first.
(function () {
  'use strict';

  const root = typeof window !== 'undefined' ? window : globalThis;
  if (typeof document === 'undefined') return;  // loaded outside a browser
  const { bytesToHex, checkNames, codeOf, encodeLeaf, verifyHistory } = root.ipnVerify;

  // ===================================================================================
  // Strings
  // ===================================================================================

  const STRINGS = {
    ja: {
      title: '情報提供等記録開示',
      subtitle: '情報提供ネットワークシステムを通じたあなたの情報のやり取りの記録',
      skip: '本文へ移動',
      langToggleLabel: 'Switch to English',
      loading: '読み込み中…',
      cardHeading: 'カードでログイン・利用者登録',
      cardIntro: 'ログインと利用者登録には、あなたのカードが必要です。このページが示すチャレンジに、お手元のカードアプリで署名してください（カードの暗証番号を入力します。3回間違えるとカードはロックされます）。住民票コードは使いません。',
      cardOrigin: '接続先（オリジン）',
      cardChallenge: 'チャレンジ',
      cardCommandHelp: 'カードアプリの例：',
      cardNewChallenge: '新しいチャレンジ',
      cardAnswerLabel: 'カードアプリの出力を貼り付けてください',
      cardLogin: 'カードでログイン',
      cardEnrol: '初めての方：カードで利用者登録',
      historyHeading: 'あなたの情報のやり取り',
      logout: 'ログアウト',
      filterLegend: '期間（日本時間）',
      filterFrom: '開始日',
      filterTo: '終了日（この日を含む）',
      filterApply: '適用',
      filterClear: '解除',
      downloadCsv: 'CSVでダウンロード',
      glossaryHeading: '各欄の意味',
      colTime: '日時',
      colInquirer: '照会機関',
      colProvider: '提供機関',
      colBusiness: '事務',
      colItem: '特定個人情報の項目',
      colOutcome: '結果',
      glossTime: 'やり取りが始まった日時（日本時間）。',
      glossInquirer: 'あなたの情報を求めた機関。',
      glossProvider: '求められた情報を持っていて、提供を求められた機関。',
      glossBusiness: '照会機関がその情報を使う手続（法律で定められた事務）。',
      glossItem: '求められた情報の種類（例：地方税の情報）。情報の中身はネットワークに記録されません。',
      glossOutcome: '提供されたか、該当する情報がなかったか、失敗・時間切れ・拒否となったか、また照会機関が受け取ったか。',
      verifyHeading: '記録の改ざん・欠落がないことの確認',
      verifyHelp: 'ネットワークが署名した記録全体の要約（署名付きツリーヘッド）と照らし合わせて、表示中の各記録が改ざんされていないこと、そしてあなたの記録が一件も欠けず、ほかの人の記録や重複もなく、記録された順番どおりにそろっていることを、このブラウザ内で計算して確かめます。あわせて、その要約が公表されたネットワークの鍵で署名され、個人情報保護委員会が連署したもの（委員会が見ている記録と同じもの）であること、表示中の機関・事務・項目の名前が、政策データの管理者が署名した名前の一覧（ポリシーバンドル）のとおりであることも確かめます。',
      verifyButton: '署名付きツリーヘッドと照合する',
      footer: 'このポータルは、情報提供ネットワークシステムがあなたについて保存している情報提供等の記録を表示します。法律により、一部の提供の記録は開示されないことがあります（不開示）。ログインにはあなたのカードを使い、住民票コードは入力も保存もされません。',
      tableCaption: 'あなたの情報のやり取りの一覧（新しい順）',
      count: 'やり取り {n} 件（記録 {r} 件）',
      periodAll: '全期間',
      period: '期間：{from} 〜 {to}',
      periodOpen: '指定なし',
      empty: 'この期間に、あなたの情報のやり取りの記録はありません。',
      showDetails: '詳細を表示',
      hideDetails: '詳細を閉じる',
      detailsRequest: '照会番号',
      detailsSequence: '記録番号 {n}',
      nonDisclosure: '不開示の指定あり',
      none: '—',
      ev_inquiry_accepted: 'ネットワークが照会を受け付けました',
      ev_inquiry_refused: 'ネットワークが照会を拒否しました',
      ev_forwarded: '提供機関に照会を転送しました',
      ev_provided: '提供機関が情報を提供しました',
      ev_not_held: '提供機関は該当する情報を保有していませんでした',
      ev_failed: '処理に失敗しました',
      ev_timed_out: '期限内に応答がありませんでした',
      ev_received: '照会機関が応答を受け取りました',
      ev_not_received: '照会機関は応答を受け取れませんでした',
      ev_operator_action: '運用者の操作',
      out_received: '提供済み（照会機関が受領）',
      out_provided: '提供済み（受領は未確認）',
      out_not_received: '提供済み（照会機関は受領できず）',
      out_not_held: '該当する情報なし',
      out_failed: '失敗',
      out_timed_out: '時間切れ',
      out_refused: '拒否：{reason}',
      out_with_reason: '{outcome}：{reason}',
      code_with_name: '{words}（{code}）',
      out_refused_plain: '拒否',
      out_pending: '処理中',
      enrolling: 'カードで利用者登録をしています…',
      loggingIn: 'ログインしています…',
      loggedIn: 'ログインしました。',
      enrolledLoggedIn: '利用者登録が完了し、ログインしました。',
      loggedOut: 'ログアウトしました。',
      sessionEnded: 'ログインの有効期限が切れました。もう一度ログインしてください。',
      badCardAnswer: 'カードアプリの出力として読み取れません（certificate と signature を含む JSON を、そのまま貼り付けてください）。',
      wrongOrigin: 'この署名は別の接続先（{origin}）向けです。このページの接続先で署名し直してください。',
      emptyCardAnswer: 'カードアプリの出力を貼り付けてください。',
      noEd25519: 'このブラウザは Web Crypto の Ed25519 に対応していません。最新のブラウザをお使いください。',
      badDates: '開始日は終了日より前の日付にしてください。',
      serverError: 'エラー：{text}',
      httpError: 'サーバーがエラーを返しました（HTTP {status}）。',
      status400: '入力内容に誤りがあります。確認してもう一度お試しください。',
      status401: 'ログインできませんでした。カードが確認できないか、利用者登録がまだか、ログインの有効期限が切れています。新しいチャレンジに署名し直してください。',
      status403: 'このカードはまだポータルに登録の準備ができていません。カードの発行窓口にお問い合わせください。',
      status409: 'このカードはすでに利用者登録されています。「カードでログイン」をお使いください。',
      status413: '送信された内容が大きすぎます。',
      status415: '送信の形式が正しくありません。ページを再読み込みしてください。',
      status429: 'アクセスが集中しています。しばらくしてからもう一度お試しください。',
      tryAgainAt: '試行の回数が上限に達しました。{time}（日本時間）以降にもう一度お試しください。',
      status503: '情報提供ネットワークに接続できませんでした。しばらくしてからもう一度お試しください。',
      networkError: 'サーバーに接続できませんでした。',
      unexpected: '予期しないエラーが発生しました：{text}',
      badResponse: 'サーバーの応答を読み取れませんでした。',
      verifying: '照合しています…',
      verifyComplete: '全 {n} 件の記録を確認しました。サイズ {size} の署名付きツリーヘッド（署名者 {signer}。個人情報保護委員会の立会人の鍵 {witness} による連署あり）の時点で、あなたの記録は欠けることなくすべてそろっています。表示中の機関・事務・項目の名前は、政策データの管理者が署名した名前の一覧（ポリシーバンドル、バージョン {pversion}、署名者 {pkey}）のとおりです。',
      verifyCompletePeriod: 'あなたの記録全 {n} 件（この期間に表示中の {m} 件を含む）を確認しました。サイズ {size} の署名付きツリーヘッド（署名者 {signer}。個人情報保護委員会の立会人の鍵 {witness} による連署あり）の時点で、あなたの記録は欠けることなくすべてそろっています。表示中の機関・事務・項目の名前は、政策データの管理者が署名した名前の一覧（ポリシーバンドル、バージョン {pversion}、署名者 {pkey}）のとおりです。',
      verifyCompleteEmpty: '表示する記録はありません。サイズ {size} の署名付きツリーヘッド（署名者 {signer}。個人情報保護委員会の立会人の鍵 {witness} による連署あり）により、欠けている記録がないことを確認しました。',
      verifyFailed: '{n} 件中 {m} 件の記録を確認できませんでした（記録番号：{list}）。',
      verifyNoTrustRoots: 'このページには、信頼の起点となる鍵（トラストルート）が組み込まれていません。どの鍵を信頼してよいか分からないため、照合できません。',
      verifyNoTrust: 'ポータルが信頼文書（照合に使ってよい鍵の、署名付きの一覧）を公開していないため、照合できません。',
      verifyTrustMalformed: 'ポータルの信頼文書（照合に使ってよい鍵の一覧）を読み取れません。',
      verifyTrustUnknownSigner: 'ポータルの信頼文書（照合に使ってよい鍵の一覧）が、このページの知らない鍵 {key} で署名されています。',
      verifyTrustBad: 'ポータルの信頼文書（照合に使ってよい鍵の一覧）の署名が正しくありません（署名者 {key}）。',
      verifyTrustNoKeys: 'ポータルの信頼文書に、記録に署名する鍵、または個人情報保護委員会が連署する鍵が載っていません。',
      verifyHeadUnknownSigner: '署名付きツリーヘッドは鍵 {key} で署名されていますが、これは委員会が公表している記録の署名鍵ではありません。',
      verifyNoCosignature: '署名付きツリーヘッドに個人情報保護委員会の連署がありません。委員会が見ている記録と同じものではないおそれがあります。',
      verifyCosignMismatch: '個人情報保護委員会の連署は、表示中の署名付きツリーヘッド（サイズ {size}）ではなく、別のもの（サイズ {csize}）に対するものです。',
      verifyCosignUnknownWitness: '署名付きツリーヘッドに連署している鍵 {key} は、委員会が公表している立会人（ウィットネス）の鍵ではありません。',
      verifyCosignBad: '個人情報保護委員会の連署が正しくありません。',
      verifyHeadBad: '署名付きツリーヘッドの署名が正しくありません（署名者 {signer}）。',
      verifyHeadVersion: '署名付きツリーヘッドが古い形式のため、あなたの記録がすべてそろっているかを確認できません。',
      verifyNoHead: '署名付きツリーヘッドがないため照合できません。',
      verifyNoProof: 'あなたの記録がすべてそろっていることの証明が、サーバーから届いていません。',
      verifyOtherPerson: '記録番号 {seq} は、あなたではなく別の人の記録です。',
      verifyDuplicate: '記録番号 {seq} が二重に表示されています。',
      verifyOrder: '記録が、ネットワークに記録された順番どおりに並んでいません。',
      verifyWithheldShown: '記録番号 {seq} は不開示とされた記録で、表示されてはならないものです。',
      verifyMissing: 'あなたの情報のやり取りのうち {n} 件が表示されていません（欠けています）。',
      verifyMissingOne: 'あなたの情報のやり取りのうち 1 件が表示されていません（欠けています）。',
      verifyExtra: 'あなたの記録にあるよりも {n} 件多くのやり取りが表示されています。',
      verifyExtraOne: 'あなたの記録にあるよりも 1 件多くのやり取りが表示されています。',
      verifyNotHistory: '表示中のやり取りは、あなたの記録にあるやり取りと一致しません。',
      verifyMapBad: 'あなたの記録がすべてそろっていることの証明が、署名付きツリーヘッドと一致しません。',
      verifyNotInHistory: '表示中の記録番号 {seq} は、確認したあなたの記録の中にありません。',
      verifyPeriodMissing: 'この期間にあるあなたの記録のうち、記録番号 {seq} が表示されていません。',
      verifyTrustNoPolicyKeys: '記録は改ざん・欠落なく確認できましたが、ポータルの信頼文書に、機関・事務・項目の名前の一覧（ポリシーバンドル）に署名する政策データ管理者の鍵が載っていないため、表示中の名前が正しいかは確かめられません。',
      verifyNoPolicy: '記録は改ざん・欠落なく確認できましたが、ポータルが署名付きの機関・事務・項目の名前の一覧（ポリシーバンドル）を公開していないため、表示中の名前が正しいかは確かめられません。',
      verifyPolicyMalformed: '記録は改ざん・欠落なく確認できましたが、ポータルの機関・事務・項目の名前の一覧（ポリシーバンドル）を読み取れないため、表示中の名前が正しいかは確かめられません。',
      verifyPolicyUnknownSigner: '記録は改ざん・欠落なく確認できましたが、機関・事務・項目の名前の一覧（ポリシーバンドル）は鍵 {key} で署名されていて、これは信頼文書にある政策データ管理者の鍵ではありません。表示中の名前が正しいかは確かめられません。',
      verifyPolicyBad: '記録は改ざん・欠落なく確認できましたが、機関・事務・項目の名前の一覧（ポリシーバンドル）の署名が正しくありません（確かめた鍵 {key}）。表示中の名前が正しいかは確かめられません。',
      verifyNameMismatch: '記録は改ざん・欠落なく確認できましたが、記録番号 {seq} の{what}（コード {code}）の名前が「{shown}」と表示されています。政策データ管理者が署名した名前は「{signed}」です。',
      role_inquirer: '照会機関',
      role_provider: '提供機関',
      role_business: '事務',
      role_item: '特定個人情報の項目',
      verifyError: '照合できませんでした：{text}',
    },
    en: {
      title: 'Disclosure of information-provision records',
      subtitle: 'Records of the exchanges of your information over the information-provision network',
      skip: 'Skip to content',
      langToggleLabel: '日本語に切り替える',
      loading: 'Loading…',
      cardHeading: 'Log in or enrol with your card',
      cardIntro: 'Logging in and enrolling both need your card. Sign the challenge shown here with the card application on your computer (it asks for the card\'s PIN; three wrong PINs lock the card). Your resident code is not used.',
      cardOrigin: 'Site (origin)',
      cardChallenge: 'Challenge',
      cardCommandHelp: 'For example, with the card application:',
      cardNewChallenge: 'New challenge',
      cardAnswerLabel: 'Paste what the card application printed',
      cardLogin: 'Log in with the card',
      cardEnrol: 'First time: enrol with the card',
      historyHeading: 'Exchanges of your information',
      logout: 'Log out',
      filterLegend: 'Period (Japan time)',
      filterFrom: 'From',
      filterTo: 'To (inclusive)',
      filterApply: 'Apply',
      filterClear: 'Clear',
      downloadCsv: 'Download CSV',
      glossaryHeading: 'What the columns mean',
      colTime: 'Date and time',
      colInquirer: 'Inquiring agency',
      colProvider: 'Providing agency',
      colBusiness: 'Business',
      colItem: 'Item of personal information',
      colOutcome: 'Outcome',
      glossTime: 'When the exchange started (Japan time).',
      glossInquirer: 'The agency that asked for your information.',
      glossProvider: 'The agency that holds the information and was asked to provide it.',
      glossBusiness: 'The procedure, set out in law, for which the inquiring agency needs the information.',
      glossItem: 'The kind of information asked for (for example, local tax information). The content itself is never recorded by the network.',
      glossOutcome: 'Whether the information was provided, not held, or the exchange failed, timed out or was refused — and whether the inquiring agency received it.',
      verifyHeading: 'Check that the records are untampered and complete',
      verifyHelp: 'Checks, by computing in this browser against the summary of all records that the network has signed (the signed tree head), that each record shown is untampered, and that your history is all there: nothing missing, nobody else\'s records, nothing shown twice, and in the order the network logged it. It also checks that the summary is signed with the network\'s published key and cosigned by the oversight commission (so that it is the same log the commission sees), and that the names shown for agencies, businesses and items are those of the list of names the policy administrator signed (the policy bundle).',
      verifyButton: 'Check against the signed tree head',
      footer: 'This portal shows the records that the information-provision network keeps about exchanges of your information. The law allows some provisions to be withheld from disclosure (non-disclosure). You log in with your card; your resident code is neither asked for nor stored.',
      tableCaption: 'Exchanges of your information, newest first',
      count: '{n} exchanges ({r} records)',
      periodAll: 'All dates',
      period: 'Period: {from} to {to}',
      periodOpen: 'open',
      empty: 'There are no records of exchanges of your information in this period.',
      showDetails: 'Show details',
      hideDetails: 'Hide details',
      detailsRequest: 'Request id',
      detailsSequence: 'Record no. {n}',
      nonDisclosure: 'Marked for non-disclosure',
      none: '—',
      ev_inquiry_accepted: 'The network accepted the inquiry',
      ev_inquiry_refused: 'The network refused the inquiry',
      ev_forwarded: 'The inquiry was forwarded to the providing agency',
      ev_provided: 'The providing agency provided the information',
      ev_not_held: 'The providing agency does not hold such information',
      ev_failed: 'The exchange failed',
      ev_timed_out: 'No answer within the deadline',
      ev_received: 'The inquiring agency received the answer',
      ev_not_received: 'The inquiring agency did not receive the answer',
      ev_operator_action: 'Operator action',
      out_received: 'Provided (received by the inquiring agency)',
      out_provided: 'Provided (receipt not confirmed)',
      out_not_received: 'Provided (not received by the inquiring agency)',
      out_not_held: 'Not held',
      out_failed: 'Failed',
      out_timed_out: 'Timed out',
      out_refused: 'Refused: {reason}',
      out_with_reason: '{outcome}: {reason}',
      code_with_name: '{words} ({code})',
      out_refused_plain: 'Refused',
      out_pending: 'In progress',
      enrolling: 'Enrolling with your card…',
      loggingIn: 'Logging in…',
      loggedIn: 'You are logged in.',
      enrolledLoggedIn: 'Enrolment succeeded and you are logged in.',
      loggedOut: 'You have logged out.',
      sessionEnded: 'Your session has ended. Please log in again.',
      badCardAnswer: 'This is not what the card application prints (JSON with certificate and signature): paste it unchanged.',
      wrongOrigin: 'This signature is for another site ({origin}). Sign again for this page\'s site.',
      emptyCardAnswer: 'Paste what the card application printed.',
      noEd25519: 'This browser does not support Ed25519 in Web Crypto. Please use an up-to-date browser.',
      badDates: 'The start date must not be after the end date.',
      serverError: 'Error: {text}',
      httpError: 'The server answered with an error (HTTP {status}).',
      status400: 'Something in the request is not right. Please check it and try again.',
      status401: 'Could not log in: the card could not be checked, is not enrolled yet, or the session has expired. Sign a new challenge.',
      status403: 'This card is not ready for the portal yet. Please ask the office that issued it.',
      status409: 'This card is already enrolled: use "Log in with the card".',
      status413: 'What was sent is too large.',
      status415: 'The request had the wrong format. Please reload the page.',
      status429: 'Too many requests. Please try again in a while.',
      tryAgainAt: 'Too many attempts. Please try again at {time} (Japan time).',
      status503: 'The information-provision network could not be reached. Please try again later.',
      networkError: 'Could not reach the server.',
      unexpected: 'Something went wrong: {text}',
      badResponse: 'The server\'s answer could not be read.',
      verifying: 'Checking…',
      verifyComplete: 'All {n} records checked: as of the signed tree head of size {size} (signed by {signer}; cosigned by the oversight commission, witness key {witness}), your history is complete. The names shown for agencies, businesses and items are those of the list of names the policy administrator signed (policy bundle version {pversion}, signed by {pkey}).',
      verifyCompletePeriod: 'All {n} records of your history checked, the {m} shown for this period among them: as of the signed tree head of size {size} (signed by {signer}; cosigned by the oversight commission, witness key {witness}), your history is complete. The names shown for agencies, businesses and items are those of the list of names the policy administrator signed (policy bundle version {pversion}, signed by {pkey}).',
      verifyCompleteEmpty: 'There are no records to show, and the signed tree head of size {size} (signed by {signer}; cosigned by the oversight commission, witness key {witness}) confirms that none is missing.',
      verifyFailed: '{m} of {n} records could not be verified (record nos. {list}).',
      verifyNoTrustRoots: 'This page has no trust roots (the keys built into it to start from), so it cannot tell which keys to trust: the check cannot be done.',
      verifyNoTrust: 'The portal publishes no trust document (the signed list of the keys to check against), so the check cannot be done.',
      verifyTrustMalformed: 'The portal\'s trust document (the list of the keys to check against) cannot be read.',
      verifyTrustUnknownSigner: 'The portal\'s trust document (the list of the keys to check against) is signed by an unknown key {key}, not by one this page trusts.',
      verifyTrustBad: 'The signature of the portal\'s trust document (the list of the keys to check against) is not valid (signer {key}).',
      verifyTrustNoKeys: 'The portal\'s trust document names no key that signs the records, or no key with which the oversight commission cosigns.',
      verifyHeadUnknownSigner: 'The signed tree head is signed by {key}, which is not the records key the commission publishes.',
      verifyNoCosignature: 'The signed tree head has no cosignature from the oversight commission: it may not be the log the commission sees.',
      verifyCosignMismatch: 'The oversight commission\'s cosignature is for another signed tree head (size {csize}), not the one shown (size {size}).',
      verifyCosignUnknownWitness: 'The signed tree head is cosigned by {key}, not the commission\'s published witness key.',
      verifyCosignBad: 'The oversight commission\'s cosignature is not valid.',
      verifyHeadBad: 'The signature of the signed tree head is not valid (signer {signer}).',
      verifyHeadVersion: 'The signed tree head is of an older kind, which cannot show whether your history is complete.',
      verifyNoHead: 'There is no signed tree head to check against.',
      verifyNoProof: 'The server did not send the proof that your history is complete.',
      verifyOtherPerson: 'Record no. {seq} belongs to someone else\'s history, not yours.',
      verifyDuplicate: 'Record no. {seq} is shown twice.',
      verifyOrder: 'The records are not in the order in which the network logged them.',
      verifyWithheldShown: 'Record no. {seq} was withheld from disclosure and should never have been shown.',
      verifyMissing: '{n} exchanges of your history are missing.',
      verifyMissingOne: 'One exchange of your history is missing.',
      verifyExtra: '{n} more exchanges are shown than your history holds.',
      verifyExtraOne: 'One more exchange is shown than your history holds.',
      verifyNotHistory: 'The exchanges shown are not those of your history.',
      verifyMapBad: 'The proof that your history is complete does not match the signed tree head.',
      verifyNotInHistory: 'Record no. {seq} shown for this period is not part of your checked history.',
      verifyPeriodMissing: 'Record no. {seq} of your history falls in this period but is not shown.',
      verifyTrustNoPolicyKeys: 'The records check out (untampered and complete), but the portal\'s trust document names no policy administrator\'s key, which signs the list of the names of agencies, businesses and items (the policy bundle): the names shown cannot be checked.',
      verifyNoPolicy: 'The records check out (untampered and complete), but the portal publishes no signed list of the names of agencies, businesses and items (the policy bundle): the names shown cannot be checked.',
      verifyPolicyMalformed: 'The records check out (untampered and complete), but the portal\'s list of the names of agencies, businesses and items (the policy bundle) cannot be read: the names shown cannot be checked.',
      verifyPolicyUnknownSigner: 'The records check out (untampered and complete), but the list of the names of agencies, businesses and items (the policy bundle) is signed by {key}, which is not a policy administrator\'s key the trust document names: the names shown cannot be checked.',
      verifyPolicyBad: 'The records check out (untampered and complete), but the signature of the list of the names of agencies, businesses and items (the policy bundle) is not valid (keys tried: {key}): the names shown cannot be checked.',
      verifyNameMismatch: 'The records check out (untampered and complete), but record no. {seq} shows the {what} {code} as "{shown}", whereas the name the policy administrator signed is "{signed}".',
      role_inquirer: 'inquiring agency',
      role_provider: 'providing agency',
      role_business: 'business',
      role_item: 'item',
      verifyError: 'The check could not be completed: {text}',
    },
  };

  // Plain words for the outcome codes the core records (wire.proto Outcome and DenyReason names).
  const CODE_WORDS = {
    ja: {
      ACCEPTED: '受付', FORWARDED: '転送', PROVIDED: '提供', NOT_HELD: '該当なし', FAILED: '失敗',
      TIMED_OUT: '期限切れ', REFUSED: '拒否', NOT_RECEIVED: '受領できませんでした',
      NOT_CONFIRMED: '照会機関のシステムが受領を確認しませんでした',
      UNREACHABLE: '提供機関のシステムに接続できませんでした',
      UNKNOWN_INQUIRER: '照会機関が登録されていません',
      UNKNOWN_PROVIDER: '提供機関が登録されていません',
      INQUIRER_NOT_ACTIVE: '照会機関が利用停止中です',
      PROVIDER_NOT_ACTIVE: '提供機関が利用停止中です',
      NO_ASSESSMENT: '特定個人情報保護評価が承認されていません',
      NO_SUCH_LINK: '法令で認められた照会ではありません',
      OUTSIDE_EFFECTIVE_PERIOD: '法令で認められた期間外の照会です',
      RATE_LIMITED: '照会が多すぎるため制限されました',
      INVALID_SYMBOL: '本人を識別する符号が無効でした',
      NOT_ISSUED_TO_PROVIDER: '提供機関はあなたの情報を保有していません',
      DUPLICATE_REQUEST: '同じ照会番号の照会が既にありました',
      MALFORMED: '照会の形式が正しくありませんでした',
      UNKNOWN_ITEM: '特定個人情報の項目が不明です',
      UNKNOWN_BUSINESS: '事務が不明です',
    },
    en: {
      ACCEPTED: 'accepted', FORWARDED: 'forwarded', PROVIDED: 'provided', NOT_HELD: 'not held',
      FAILED: 'failed', TIMED_OUT: 'timed out', REFUSED: 'refused', NOT_RECEIVED: 'not received',
      NOT_CONFIRMED: 'the inquiring agency\'s system did not confirm receipt',
      UNREACHABLE: 'the providing agency\'s system could not be reached',
      UNKNOWN_INQUIRER: 'the inquiring agency is not registered',
      UNKNOWN_PROVIDER: 'the providing agency is not registered',
      INQUIRER_NOT_ACTIVE: 'the inquiring agency is suspended',
      PROVIDER_NOT_ACTIVE: 'the providing agency is suspended',
      NO_ASSESSMENT: 'the agency\'s privacy impact assessment is not approved',
      NO_SUCH_LINK: 'the law does not permit this inquiry',
      OUTSIDE_EFFECTIVE_PERIOD: 'outside the period in which the law permits this inquiry',
      RATE_LIMITED: 'too many inquiries (rate limit)',
      INVALID_SYMBOL: 'the symbol identifying you was not valid',
      NOT_ISSUED_TO_PROVIDER: 'the providing agency holds no information about you',
      DUPLICATE_REQUEST: 'an inquiry with the same request id already existed',
      MALFORMED: 'the inquiry was malformed',
      UNKNOWN_ITEM: 'unknown item',
      UNKNOWN_BUSINESS: 'unknown business',
    },
  };

  // The code an event's outcome repeats (not worth showing again).
  const SELF_OUTCOME = { inquiry_accepted: 'ACCEPTED', forwarded: 'FORWARDED', provided: 'PROVIDED',
                         not_held: 'NOT_HELD', failed: 'FAILED', timed_out: 'TIMED_OUT' };

  const OUTCOME_CLASS = { received: 'good', provided: 'good', not_received: 'bad', not_held: 'neutral', pending: 'neutral',
                          failed: 'bad', timed_out: 'bad', refused: 'bad' };

  // ===================================================================================
  // State and small helpers
  // ===================================================================================

  const state = {
    lang: 'ja',
    history: null,        // the last /api/history answer
    session: '',          // the page's half of the session token
    filter: { from: '', to: '' },
    message: null,        // {kind, key, params}
    verify: null,         // {kind, key, params}
    failedSequences: new Set(),
    expanded: new Set(),  // exchange keys whose details are open
    loggedIn: false,
    challenge: null,      // the portal's current challenge (base64url), used once
    origin: '',           // the origin the card signs for, as the portal states it
  };

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
    for (const c of children) if (c != null) node.append(c);  // strings become text nodes
    return node;
  }

  function setMessage(kind, key, params) {
    state.message = key ? { kind, key, params } : null;
    renderMessage();
  }

  function renderMessage() {
    const box = $('message');
    box.classList.remove('error', 'info', 'success');
    if (!state.message) { box.textContent = ''; return; }
    box.classList.add(state.message.kind);
    box.textContent = t(state.message.key, state.message.params);
  }

  function b64urlEncode(bytes) {
    let s = '';
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function b64urlDecode(text) {
    if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
    let s = text.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    const bin = atob(s);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  class ApiError extends Error {
    constructor(status, text, retryAt) {
      super(text || `HTTP ${status}`);
      this.status = status;
      this.serverText = text;
      this.retryAt = retryAt;  // 429: when the server allows the next attempt (Unix ms)
    }
  }

  // An error that is shown as one of the page's own messages.
  class UserError extends Error {
    constructor(key, params) { super(key); this.key = key; this.params = params; }
  }

  // The page's half of the session token (the other half is an HttpOnly cookie, which a
  // browser would also send to any other server on this host): kept in sessionStorage,
  // which belongs to this origin alone — scheme, host and port.
  const SESSION_KEY = 'ipn-session';
  function sessionHalf() {
    try { return sessionStorage.getItem(SESSION_KEY) || ''; } catch (e) { return ''; }
  }
  function setSessionHalf(value) {
    try {
      if (value) sessionStorage.setItem(SESSION_KEY, value); else sessionStorage.removeItem(SESSION_KEY);
    } catch (e) { /* storage off: the session lasts as long as the page */ }
    state.session = value || '';
  }
  function requestHeaders(accept) {
    const headers = { Accept: accept };
    const half = state.session || sessionHalf();
    if (half) headers.Authorization = `Bearer ${half}`;
    return headers;
  }

  // fetch with both halves of the session; resolves to {status, ok, data}.
  async function api(method, path, body) {
    const options = { method, credentials: 'same-origin', cache: 'no-store',
                      headers: requestHeaders('application/json') };
    if (method !== 'GET') {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body || {});
    }
    let response;
    try { response = await fetch(path, options); } catch (e) { throw new ApiError(0, ''); }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { status: response.status, ok: response.ok, data };
  }

  function failure(res) {
    const text = res.data && typeof res.data.error === 'string' ? res.data.error : '';
    const retryAt = res.data && Number.isFinite(res.data.retry_at_unix_ms) ? res.data.retry_at_unix_ms : NaN;
    return new ApiError(res.status, text, retryAt);
  }

  // A message for anything a handler throws.
  function reportError(e) {
    if (e instanceof UserError) {
      setMessage('error', e.key, e.params);
    } else if (e instanceof ApiError) {
      // The server's own words are English: shown in the English page only. The Japanese
      // page says what the status means in Japanese.
      const byStatus = `status${e.status}`;
      const retryMs = e.status === 429 ? e.retryAt : NaN;
      if (e.status === 0) setMessage('error', 'networkError');
      else if (Number.isFinite(retryMs)) setMessage('error', 'tryAgainAt', { time: formatTime(retryMs * 1000) });
      else if (e.serverText && state.lang === 'en') setMessage('error', 'serverError', { text: e.serverText });
      else if (STRINGS.ja[byStatus]) setMessage('error', byStatus);
      else setMessage('error', 'httpError', { status: e.status });
    } else if (e && e.name === 'NotSupportedError') {
      setMessage('error', 'noEd25519');
    } else {
      setMessage('error', 'unexpected', { text: (e && e.message) || String(e) });
    }
  }

  const ACTION_IDS = ['card-login', 'card-enrol', 'card-new-challenge', 'filter-apply',
                      'filter-clear', 'verify-button', 'logout'];
  let busy = false;

  // Runs one user action at a time, with the buttons disabled meanwhile.
  async function run(action) {
    if (busy) return;
    busy = true;
    for (const id of ACTION_IDS) $(id).disabled = true;
    try { await action(); } catch (e) { reportError(e); } finally {
      busy = false;
      for (const id of ACTION_IDS) $(id).disabled = false;
    }
  }

  function showView(view) {
    const wasLogin = !$('login-view').hidden;
    $('loading-view').hidden = view !== 'loading';
    $('login-view').hidden = view !== 'login';
    $('history-view').hidden = view !== 'history';
    // A fresh challenge each time the log-in view appears (a challenge is used once).
    if (view === 'login' && !wasLogin) newChallenge().catch(reportError);
  }

  // ===================================================================================
  // Enrolment and login, by card
  // ===================================================================================

  // The portal's challenge for the card application: shown with the origin the card must
  // sign for, and a command line for the demo's card application.
  async function newChallenge() {
    state.challenge = null;
    $('card-challenge').textContent = '';
    $('card-command').textContent = '';
    const ch = await api('POST', '/api/challenge');
    if (!ch.ok) throw failure(ch);
    let bytes;
    try { bytes = b64urlDecode(ch.data && ch.data.challenge); } catch (e) { bytes = null; }
    if (!bytes || bytes.length !== 32 || typeof ch.data.origin !== 'string') throw new UserError('badResponse');
    state.challenge = ch.data.challenge;
    state.origin = ch.data.origin;
    $('card-origin').textContent = state.origin;
    $('card-challenge').textContent = state.challenge;
    $('card-command').textContent =
      `ipn card sign --token <card> --origin ${state.origin} --challenge ${state.challenge}`;
  }

  // What the card application printed: {certificate, signature, origin}, base64url.
  function takeCardAnswer() {
    const input = $('card-answer');
    const text = input.value.trim();
    if (!text) { input.focus(); throw new UserError('emptyCardAnswer'); }
    let answer;
    try {
      answer = JSON.parse(text);
      if (!answer || typeof answer.certificate !== 'string' || typeof answer.signature !== 'string' ||
          b64urlDecode(answer.signature).length !== 64 || b64urlDecode(answer.certificate).length === 0) {
        throw new Error('bad answer');
      }
    } catch (e) { throw new UserError('badCardAnswer'); }
    if (typeof answer.origin === 'string' && answer.origin !== state.origin) {
      throw new UserError('wrongOrigin', { origin: answer.origin });
    }
    input.value = '';
    return answer;
  }

  // Enrolment (201) and log-in (200) alike: the challenge and the card's answer; on
  // success the server sets an HttpOnly cookie with one half of the session token and
  // answers the other half, which the page keeps.
  async function withCard(path, busyKey, successKey) {
    const answer = takeCardAnswer();
    if (!state.challenge) throw new UserError('badResponse');
    setMessage('info', busyKey);
    const challenge = state.challenge;
    state.challenge = null;  // used up by this attempt, whatever its outcome
    let res;
    try {
      res = await api('POST', path, { challenge, certificate: answer.certificate, signature: answer.signature });
    } finally {
      if (!res || !res.ok) await newChallenge().catch(() => {});
    }
    if (!res.ok) throw failure(res);
    if (!res.data || typeof res.data.session !== 'string') throw new UserError('badResponse');
    setSessionHalf(res.data.session);
    state.loggedIn = true;
    state.expanded.clear();
    await loadHistory();
    if (state.loggedIn) {
      setMessage('success', successKey);
      $('history-heading').focus();
    }
  }

  async function onLogout() {
    try { await api('POST', '/api/logout'); } finally {
      setSessionHalf('');
      state.loggedIn = false;
      state.history = null;
      state.verify = null;
      state.failedSequences.clear();
      state.expanded.clear();
      $('history').replaceChildren();
      showView('login');
      setMessage('info', 'loggedOut');
      $('login-heading').focus();
    }
  }

  // ===================================================================================
  // History
  // ===================================================================================

  function filterQuery() {
    const q = new URLSearchParams();
    if (state.filter.from) q.set('from', state.filter.from);
    if (state.filter.to) q.set('to', state.filter.to);
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  // Fetches the history for the current filter; shows the login panels on 401.
  async function loadHistory() {
    const res = await api('GET', `/api/history${filterQuery()}`);
    if (res.status === 401) {
      const wasLoggedIn = state.loggedIn;
      state.loggedIn = false;
      state.history = null;
      showView('login');
      if (wasLoggedIn) setMessage('error', 'sessionEnded');
      return;
    }
    if (!res.ok) throw failure(res);
    if (!res.data || !Array.isArray(res.data.records)) throw new UserError('badResponse');
    state.loggedIn = true;
    state.history = res.data;
    state.verify = null;
    state.failedSequences.clear();
    const query = filterQuery();
    $('download-csv').href = csvPath();
    showView('history');
    renderHistory();
    renderVerify();
  }

  function csvPath() {
    const query = filterQuery();
    return `/api/history.csv${query}${query ? '&' : '?'}lang=${state.lang}`;
  }

  // The CSV needs the session's header half, which a plain link cannot send: fetched,
  // then handed to the browser as a file.
  async function onDownloadCsv() {
    const path = csvPath();
    let response;
    try {
      response = await fetch(path, { credentials: 'same-origin', cache: 'no-store',
                                     headers: requestHeaders('text/csv') });
    } catch (e) { throw new ApiError(0, ''); }
    if (!response.ok) {
      let data = null;
      try { data = await response.json(); } catch (e) { data = null; }
      throw failure({ status: response.status, data });
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = 'ipn-history.csv';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async function onFilterApply() {
    const from = $('filter-from').value;
    const to = $('filter-to').value;
    if (from && to && from > to) { setMessage('error', 'badDates'); return; }
    state.filter = { from, to };
    setMessage(null);
    await loadHistory();
  }

  async function onFilterClear() {
    $('filter-from').value = '';
    $('filter-to').value = '';
    state.filter = { from: '', to: '' };
    setMessage(null);
    await loadHistory();
  }

  function recordTime(r) {
    const us = Number(r.time_unix_us);
    return Number.isFinite(us) ? us : Date.parse(r.time) * 1000;
  }

  // One exchange per request id and inquiring agency; events oldest first, rows newest first.
  function groupExchanges(records) {
    const groups = new Map();
    for (const r of records) {
      const key = r.request_id ? `${r.request_id}\u0000${codeOf(r.inquirer)}` : `#${r.sequence}`;
      if (!groups.has(key)) groups.set(key, { key, requestId: r.request_id || '', events: [] });
      groups.get(key).events.push(r);
    }
    const list = [...groups.values()];
    for (const g of list) {
      g.events.sort((a, b) => Number(a.sequence) - Number(b.sequence));
      g.first = g.events[0];
      g.last = g.events[g.events.length - 1];
      g.start = Math.min(...g.events.map(recordTime));
      g.outcome = exchangeOutcome(g.events);
    }
    list.sort((a, b) => (b.start - a.start) || (Number(b.last.sequence) - Number(a.last.sequence)));
    return list;
  }

  // The exchange's result in plain words: the last definite event, and whether it was received.
  function exchangeOutcome(events) {
    const refused = events.find((e) => e.event === 'inquiry_refused');
    if (refused) return { kind: 'refused', reason: refused.outcome || '' };
    let last = null;
    for (const e of events) {
      if (['provided', 'not_held', 'failed', 'timed_out'].includes(e.event)) last = e;
    }
    const receipt = events.find((e) => e.event === 'received');
    if (!last) return { kind: receipt ? 'received' : 'pending' };
    if (last.event === 'provided' && receipt) {
      return { kind: ['NOT_RECEIVED', 'NOT_CONFIRMED'].includes(receipt.outcome) ? 'not_received' : 'received' };
    }
    const reason = ['failed', 'timed_out'].includes(last.event) && last.outcome &&
      last.outcome !== SELF_OUTCOME[last.event] ? last.outcome : '';
    return { kind: last.event, reason };
  }

  // An outcome code in plain words (followed by the code when `withCode`), or the text as recorded.
  function codeText(code, withCode) {
    const words = (CODE_WORDS[state.lang] || CODE_WORDS.ja)[code];
    if (!words) return code;
    return withCode ? t('code_with_name', { words, code }) : words;
  }

  function outcomeText(outcome) {
    if (outcome.kind === 'refused') {
      return outcome.reason ? t('out_refused', { reason: codeText(outcome.reason) }) : t('out_refused_plain');
    }
    const text = t(`out_${outcome.kind}`);
    return outcome.reason ? t('out_with_reason', { outcome: text, reason: codeText(outcome.reason) }) : text;
  }

  const timeFormats = {};
  function formatTime(us) {
    if (!Number.isFinite(us)) return t('none');
    const locale = state.lang === 'ja' ? 'ja-JP' : 'en-GB';
    if (!timeFormats[locale]) {
      timeFormats[locale] = new Intl.DateTimeFormat(locale, {
        timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
      });
    }
    return timeFormats[locale].format(new Date(Math.floor(us / 1000)));
  }

  // Agency, business or item: the name in the current language, the code beneath.
  function namedCell(x) {
    const code = codeOf(x);
    if (!code && !(x && (x.name_ja || x.name_en))) return [t('none')];
    const name = x && typeof x === 'object'
      ? (state.lang === 'ja' ? x.name_ja || x.name_en : x.name_en || x.name_ja) : '';
    if (!name || name === code) return [code];
    return [el('span', { class: 'name', text: name }), el('span', { class: 'code', text: code })];
  }

  // A data cell; its label is shown beside the value when rows become cards (narrow screens).
  function cell(labelKey, className, ...content) {
    return el('td', { 'data-label': t(labelKey), class: className }, el('div', { class: 'value' }, ...content));
  }

  function renderHistory() {
    const container = $('history');
    container.replaceChildren();
    const data = state.history;
    if (!data) return;
    const groups = groupExchanges(data.records);

    const period = state.filter.from || state.filter.to
      ? t('period', { from: state.filter.from || t('periodOpen'), to: state.filter.to || t('periodOpen') })
      : t('periodAll');
    $('history-count').textContent = `${t('count', { n: groups.length, r: data.records.length })} · ${period}`;
    const note = $('withheld-note');
    note.textContent = data.withheld_note || '';
    note.hidden = !data.withheld_note;

    if (groups.length === 0) {
      container.append(el('p', { class: 'empty', text: t('empty') }));
      return;
    }
    const columns = ['colTime', 'colInquirer', 'colProvider', 'colBusiness', 'colItem', 'colOutcome'];
    const table = el('table', { class: 'exchanges' },
      el('caption', { class: 'visually-hidden', text: t('tableCaption') }),
      el('thead', null, el('tr', null,
        ...columns.map((c) => el('th', { scope: 'col', text: t(c) })))));
    const tbody = el('tbody');
    groups.forEach((g, i) => {
      const detailsId = `exchange-details-${i}`;
      const open = state.expanded.has(g.key);
      const failed = g.events.some((e) => state.failedSequences.has(e.sequence));
      const toggle = el('button', { type: 'button', class: 'details-toggle', 'aria-expanded': open ? 'true' : 'false',
                                    'aria-controls': detailsId, text: open ? t('hideDetails') : t('showDetails') });
      const withheld = g.events.some((e) => e.non_disclosure);
      const row = el('tr', { class: failed ? 'exchange verify-failed' : 'exchange', 'data-request-id': g.requestId },
        cell('colTime', 'time', formatTime(g.start)),
        cell('colInquirer', null, ...namedCell(g.first.inquirer)),
        cell('colProvider', null, ...namedCell(g.first.provider)),
        cell('colBusiness', null, ...namedCell(g.first.business)),
        cell('colItem', null, ...namedCell(g.first.item)),
        cell('colOutcome', null,
          el('span', { class: `outcome ${OUTCOME_CLASS[g.outcome.kind]}`, text: outcomeText(g.outcome) }),
          withheld ? el('span', { class: 'badge', text: t('nonDisclosure') }) : null,
          el('div', { class: 'toggle' }, toggle)));
      const details = el('tr', { class: 'exchange-details', id: detailsId, hidden: !open },
        el('td', { colspan: columns.length }, renderEvents(g)));
      toggle.addEventListener('click', () => {
        const nowOpen = details.hidden;
        details.hidden = !nowOpen;
        toggle.setAttribute('aria-expanded', nowOpen ? 'true' : 'false');
        toggle.textContent = nowOpen ? t('hideDetails') : t('showDetails');
        if (nowOpen) state.expanded.add(g.key); else state.expanded.delete(g.key);
      });
      tbody.append(row, details);
    });
    table.append(tbody);
    container.append(table);
  }

  function renderEvents(g) {
    const wrap = el('div', { class: 'events' });
    if (g.requestId) {
      wrap.append(el('p', { class: 'request-id' }, `${t('detailsRequest')}: `, el('code', { text: g.requestId })));
    }
    const list = el('ol', { class: 'event-list' });
    for (const e of g.events) {
      const notReceived = e.event === 'received' && ['NOT_RECEIVED', 'NOT_CONFIRMED'].includes(e.outcome);
      const item = el('li', { class: state.failedSequences.has(e.sequence) ? 'verify-failed' : null },
        el('span', { class: 'event-time', text: formatTime(recordTime(e)) }),
        el('span', { class: 'event-name', text: t(notReceived ? 'ev_not_received' : `ev_${e.event}`) }));
      if (e.outcome && e.event !== 'received' && e.outcome !== SELF_OUTCOME[e.event] && e.outcome !== e.event) {
        item.append(el('span', { class: 'event-outcome', text: codeText(e.outcome, true) }));
      }
      if (e.non_disclosure) item.append(el('span', { class: 'badge', text: t('nonDisclosure') }));
      item.append(el('span', { class: 'event-seq', text: t('detailsSequence', { n: e.sequence }) }));
      list.append(item);
    }
    wrap.append(list);
    return wrap;
  }

  // ===================================================================================
  // Verification against the signed tree head
  // ===================================================================================

  // The message for each reason verifyHistory gives.
  const VERIFY_KEYS = {
    noTrustRoots: 'verifyNoTrustRoots', noTrust: 'verifyNoTrust', trustMalformed: 'verifyTrustMalformed',
    trustUnknownSigner: 'verifyTrustUnknownSigner', trustBad: 'verifyTrustBad', trustNoKeys: 'verifyTrustNoKeys',
    headUnknownSigner: 'verifyHeadUnknownSigner', noCosignature: 'verifyNoCosignature',
    cosignMismatch: 'verifyCosignMismatch', cosignUnknownWitness: 'verifyCosignUnknownWitness',
    cosignBad: 'verifyCosignBad',
    noHead: 'verifyNoHead', headVersion: 'verifyHeadVersion', headBad: 'verifyHeadBad',
    inclusion: 'verifyFailed', noProof: 'verifyNoProof', otherPerson: 'verifyOtherPerson',
    duplicate: 'verifyDuplicate', order: 'verifyOrder', withheldShown: 'verifyWithheldShown',
    missing: 'verifyMissing', extra: 'verifyExtra', notHistory: 'verifyNotHistory', mapBad: 'verifyMapBad',
    trustNoPolicyKeys: 'verifyTrustNoPolicyKeys', noPolicy: 'verifyNoPolicy', policyMalformed: 'verifyPolicyMalformed',
    policyUnknownSigner: 'verifyPolicyUnknownSigner', policyBad: 'verifyPolicyBad', nameMismatch: 'verifyNameMismatch',
  };

  // The reasons that come after every check of the records has passed.
  const NAME_REASONS = new Set(['trustNoPolicyKeys', 'noPolicy', 'policyMalformed', 'policyUnknownSigner',
                                'policyBad', 'nameMismatch']);

  // The start of a JST calendar day ("YYYY-MM-DD"), Unix microseconds.
  function jstDayStartUs(day) {
    const [y, m, d] = day.split('-').map(Number);
    return (Date.UTC(y, m - 1, d) - 9 * 3600e3) * 1000;
  }

  // The portal's trust document (GET /api/trust): null when it has none (404).
  async function trustDocument() {
    const res = await api('GET', '/api/trust');
    if (res.status === 404) return null;
    if (!res.ok) throw failure(res);
    return res.data == null ? {} : res.data;  // not JSON: a malformed document
  }

  // The portal's signed policy bundle file (GET /api/policy), its bytes exactly as served:
  // null when it has none (404).
  async function policyBundle() {
    let response;
    try {
      response = await fetch('/api/policy', { credentials: 'same-origin', cache: 'no-store',
                                              headers: requestHeaders('application/octet-stream') });
    } catch (e) { throw new ApiError(0, ''); }
    if (response.status === 404) return null;
    if (!response.ok) {
      let data = null;
      try { data = await response.json(); } catch (e) { data = null; }
      throw failure({ status: response.status, data });
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  // The history the check runs over: the one shown, or, when a period is shown, the
  // person's whole history fetched again without the period.
  async function fullHistory() {
    if (!state.filter.from && !state.filter.to) return state.history;
    const res = await api('GET', '/api/history');
    if (!res.ok) throw failure(res);
    if (!res.data || !Array.isArray(res.data.records)) throw new UserError('badResponse');
    return res.data;
  }

  // A period's records against the whole checked history: each one shown is one of the
  // history's (the same signed leaf), and each of the history's in the period is shown.
  // → null, or the reason and the record at fault.
  function checkPeriod(shown, full) {
    const leaves = new Map();
    for (const r of full) leaves.set(String(r.sequence), bytesToHex(encodeLeaf(r)));
    const shownSeqs = new Set();
    for (const r of shown) {
      let same = false;
      try { same = leaves.get(String(r.sequence)) === bytesToHex(encodeLeaf(r)); } catch (e) { same = false; }
      if (!same) return { key: 'verifyNotInHistory', sequence: r.sequence };
      shownSeqs.add(String(r.sequence));
    }
    const from = state.filter.from ? jstDayStartUs(state.filter.from) : -Infinity;
    const to = state.filter.to ? jstDayStartUs(state.filter.to) + 86_400e6 : Infinity;
    for (const r of full) {
      const t = Number(r.time_unix_us);
      if (t >= from && t < to && !shownSeqs.has(String(r.sequence))) {
        return { key: 'verifyPeriodMissing', sequence: r.sequence };
      }
    }
    return null;
  }

  async function onVerify() {
    const data = state.history;
    if (!data) return;
    state.verify = { kind: '', key: 'verifying' };
    renderVerify();
    try {
      const [trust, policy] = await Promise.all([trustDocument(), policyBundle()]);
      const full = await fullHistory();
      const result = await verifyHistory(full.records, full.tree_head, full.history_proof, trust,
                                         full.cosignature, policy, root.IPN_TRUST_ROOTS);
      const signer = result.signer.slice(0, 16);
      const witness = result.witness.slice(0, 16);
      state.failedSequences = new Set(result.failed);
      const period = full !== data;
      // The records of the whole history passed (a names reason comes only then): the
      // period's records against them, then the names the period's records show.
      const recordsOk = result.ok || NAME_REASONS.has(result.reason);
      const mismatch = recordsOk && period ? checkPeriod(data.records, full.records) : null;
      if (result.ok && period && !mismatch) {
        const name = checkNames(data.records, result.policy);
        if (name) Object.assign(result, { ok: false, reason: 'nameMismatch', sequence: name.sequence,
                                          failed: [name.sequence], name });
      }
      if (mismatch) {
        state.failedSequences = new Set([mismatch.sequence]);
        state.verify = { kind: 'failed', key: mismatch.key, params: { seq: mismatch.sequence } };
      } else if (result.reason === 'nameMismatch') {
        state.failedSequences = new Set([result.name.sequence]);
        state.verify = { kind: 'failed', key: 'verifyNameMismatch',
                         params: { seq: result.name.sequence, role: `role_${result.name.field}`,
                                   code: result.name.code, shown: result.name.shown, signed: result.name.signed } };
      } else if (result.ok) {
        const params = { n: result.total, m: data.records.length, size: result.treeSize, signer, witness,
                         pversion: String(result.policyVersion), pkey: result.policySigner.slice(0, 16) };
        const key = period ? 'verifyCompletePeriod' : result.total === 0 ? 'verifyCompleteEmpty' : 'verifyComplete';
        state.verify = { kind: 'ok', key, params };
      } else if (result.reason === 'inclusion') {
        state.verify = { kind: 'failed', key: 'verifyFailed',
                         params: { n: result.total, m: result.failed.length,
                                   list: result.failed.slice(0, 20).join(', ') + (result.failed.length > 20 ? ', …' : '') } };
      } else {
        let key = VERIFY_KEYS[result.reason] || 'verifyError';
        if ((key === 'verifyMissing' || key === 'verifyExtra') && result.count === 1) key += 'One';
        state.verify = { kind: 'failed', key,
                         params: { seq: result.sequence, n: result.count, signer, text: result.reason,
                                   key: String(result.key).split(', ').map((k) => k.slice(0, 16)).join(', '),
                                   size: result.treeSize,
                                   csize: result.cosignedSize } };
      }
    } catch (e) {
      state.verify = { kind: 'failed', key: 'verifyError', params: { text: e.message || String(e) } };
    }
    renderHistory();
    renderVerify();
  }

  // The result's key is also the box's data-result (what the browser tests look at).
  function renderVerify() {
    const box = $('verify-result');
    box.classList.remove('ok', 'failed');
    if (!state.verify) { box.textContent = ''; delete box.dataset.result; return; }
    if (state.verify.kind) box.classList.add(state.verify.kind);
    box.dataset.result = state.verify.key;
    const params = state.verify.params;
    // A record's field by its role, in the language shown now.
    box.textContent = t(state.verify.key, params && params.role ? { ...params, what: t(params.role) } : params);
  }

  // ===================================================================================
  // Language
  // ===================================================================================

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t('title');
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    const toggle = $('lang-toggle');
    toggle.textContent = state.lang === 'ja' ? 'English' : '日本語';
    toggle.lang = state.lang === 'ja' ? 'en' : 'ja';
    toggle.setAttribute('aria-label', t('langToggleLabel'));
    renderMessage();
    renderHistory();
    renderVerify();
  }

  function storedLanguage() {
    try { return localStorage.getItem('ipn-lang'); } catch (e) { return null; }
  }

  function onToggleLanguage() {
    state.lang = state.lang === 'ja' ? 'en' : 'ja';
    try { localStorage.setItem('ipn-lang', state.lang); } catch (e) { /* private mode */ }
    applyLanguage();
  }

  // ===================================================================================
  // Start
  // ===================================================================================

  function start() {
    state.lang = storedLanguage() === 'en' ? 'en' : 'ja';
    applyLanguage();
    $('lang-toggle').addEventListener('click', onToggleLanguage);
    $('card-login').addEventListener('click', () => run(() => withCard('/api/login', 'loggingIn', 'loggedIn')));
    $('card-enrol').addEventListener('click', () => run(() => withCard('/api/enrol', 'enrolling', 'enrolledLoggedIn')));
    $('card-new-challenge').addEventListener('click', () => run(newChallenge));
    $('filter-form').addEventListener('submit', (e) => { e.preventDefault(); run(onFilterApply); });
    $('filter-clear').addEventListener('click', () => run(onFilterClear));
    $('verify-button').addEventListener('click', () => run(onVerify));
    $('logout').addEventListener('click', () => run(onLogout));
    $('download-csv').addEventListener('click', (e) => { e.preventDefault(); run(onDownloadCsv); });
    run(async () => {
      try { await loadHistory(); } catch (e) { showView('login'); throw e; }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
