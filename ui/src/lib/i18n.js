// Every visible string of the UI, in one English catalogue. A translation is another object with
// the same keys; `{name}` marks a value filled in at run time.
//
// Plurals: an entry may be an object of plural forms keyed by the categories of Intl.PluralRules
// (`one`, `other`; other languages add `few`, `many`, ...). `t(key, { count })` picks the form
// for `count` and fills `{count}` like any other value:
//   subjects_count: { one: '{count} subject', other: '{count} subjects' },
//   t('subjects_count', { count: 1 })  → '1 subject'
//   t('subjects_count', { count: 2 })  → '2 subjects'
// A plural entry called without a numeric `count` uses its `other` form.

export const en = {
  product: 'Visage',
  build_version: 'Build version {version}',
  // start-up
  starting_title: 'Visage is starting ...',
  node_admin: 'Admin node',
  node_api: 'Api node',
  node_core: 'Core node',
  node_loading: 'loading ...',
  node_ok: 'ready',
  node_not_ready: 'not ready: {reason}',
  starting_waiting: 'Waiting for: {names}',
  // banner
  demo_keys_banner: 'The well-known demo API keys are active: anybody who knows them can use those services. Regenerate their keys or delete the demo services.',
  // auth
  login_title: 'Log In',
  email: 'E-mail',
  password: 'Password',
  confirm_password: 'Confirm Password',
  first_name: 'First Name',
  last_name: 'Last Name',
  login_button: 'Log In',
  forgot_password: 'Forgot Password?',
  forgot_ask_admin: 'Forgot your password? Ask an administrator to set a new password.',
  create_account: 'Create an account',
  have_account: 'Already have an account? Log In',
  try_demo: 'Try Demo',
  signup_title: 'Sign Up',
  signup_button: 'Sign Up',
  signup_statistics: 'Allow to send anonymous statistics for product improvement',
  signup_created: 'You have successfully created new account',
  signup_confirm_title: 'Confirm your e-mail',
  signup_confirm_text: 'You have created a new account. Please confirm your e-mail: follow the link we sent to {email}, then log in.',
  back_to_login: 'Back to Log In',
  forgot_title: 'Forgot Password',
  forgot_email: 'Enter Email',
  forgot_sent: 'Check Your Email and Follow Instructions',
  reset_title: 'Set a new password',
  reset_new: 'New Password',
  reset_missing_token: 'This link has no token. Ask for a new one with "Forgot Password?" on the login page.',
  password_changed: 'Password has successfully been changed',
  // validation
  v_required: 'This field is required',
  v_email: 'Enter a valid e-mail address',
  v_password_min: 'At least 8 characters',
  v_password_max: 'At most 255 characters',
  v_password_match: 'Passwords do not match',
  v_password_same: 'The new password must differ from the old one',
  v_name_max: 'At most 50 characters',
  v_name_chars: "The name cannot contain the following special characters: ';', '/', '\\'",
  v_name_taken: 'This name is already used',
  v_name_demo: 'Choose another name than "Demo app"',
  v_image_ext: 'Available images extensions: jpeg, jpg, png, webp, bmp, gif',
  v_image_size: 'File size is too big',
  v_body_size: 'The two images together are too big',
  v_threshold: 'Enter a number from 0 to 1',
  // common
  cancel: 'Cancel',
  save: 'Save',
  create: 'Create',
  delete: 'Delete',
  close: 'Close',
  next: 'Next',
  back: 'Back',
  confirm: 'Confirm',
  copy: 'Copy',
  copied: 'Copied to the clipboard',
  search: 'Search',
  loading: 'Loading ...',
  name: 'Name',
  type: 'Type',
  owner: 'Owner',
  owner_name: 'Owner: {name}',
  role: 'Role',
  roles: 'Roles',
  names: 'Names',
  emails: 'Emails',
  actions: 'Actions',
  api_key: 'API key',
  regenerate_key: 'Regenerate key',
  regenerate_confirm: 'A new API key will replace the current one. Every client that uses the old key stops working. Continue?',
  regenerated: 'A new API key has been generated',
  are_you_sure: 'Are you sure?',
  previous: 'Previous',
  page_of: 'Page {page} of {pages}',
  something_wrong: 'Sorry, something went wrong',
  home: 'Home',
  // toolbar
  user_menu: 'User menu',
  theme: 'Theme',
  theme_light: 'Light',
  theme_dark: 'Dark',
  theme_system: 'Same as the system',
  skip_to_content: 'Skip to content',
  service_menu_open: 'Service menu',
  title_starting: 'Starting',
  change_profile: 'Change profile',
  change_password: 'Change Password',
  logout: 'Logout',
  profile_updated: 'User info has been successfully updated',
  old_password: 'Old Password',
  new_password: 'New Password',
  incorrect_password: "User's password is incorrect",
  stop_uploading_title: 'Stop Uploading',
  stop_uploading_text: 'You have images uploading in the background. Leaving will stop them. Continue?',
  // applications
  applications: 'Applications',
  search_application: 'Search application',
  create_application: 'Create Application',
  manage_users: 'Manage Users',
  no_applications: 'You have no applications. Create a new application or contact your administrator to be added to an existing one.',
  no_applications_user: 'You are not a member of any application yet. Ask an administrator or an application owner to add you to one.',
  app_created: 'Application has successfully been created!',
  app_edited: 'Application has successfully been edited!',
  app_deleted: 'Application has successfully been deleted!',
  application_name: 'Application name',
  app_settings: 'Application settings',
  app_members: 'Application members',
  delete_application: 'Delete Application',
  delete_type_name: 'Type the name "{name}" to confirm the deletion.',
  // users
  search_user: 'Search user',
  reassign_owner: 'Make this user the Owner? You will become an Administrator.',
  delete_user: 'Delete user',
  delete_user_confirm: 'Delete the user {name}?',
  delete_user_apps_deleter: 'This user owns: {apps}. In this case you will become the Owner of these applications.',
  delete_user_apps_owner: 'This user owns: {apps}. The Owner of these applications will be the global Owner.',
  delete_self_confirm: 'Delete your own account? You will be logged out.',
  user_deleted: 'The user has been deleted',
  user_deleted_name: '{name} has been deleted',
  role_changed: 'The role has been changed',
  role_changed_to: '{name} is now {role}',
  role_OWNER: 'Owner',
  role_ADMINISTRATOR: 'Administrator',
  role_USER: 'User',
  set_password: 'Set password',
  set_password_for: 'Set a new password for {name}',
  password_set: 'The password has been set',
  password_set_for: 'The password of {name} has been set',
  // members
  add_user: 'Add User',
  invite_email: 'User e-mail',
  invitation_added: '{email} has been added to the application',
  remove_member: 'Remove from the application',
  remove_member_confirm: 'Remove {name} from the application?',
  remove_member_title: 'Remove member',
  leave_app_title: 'Leave the application',
  leave_app_confirm: 'Leave this application? You will no longer see it.',
  leave: 'Leave',
  remove: 'Remove',
  member_removed: '{name} has been removed from the application',
  left_app: 'You have left the application',
  alone_text: "Other users can only see applications they are members of: add them here once they have signed up.",
  // services
  services: 'Services',
  search_service: 'Search service',
  create_new: 'Create New',
  create_service: 'Create service',
  service_name: 'Service name',
  service_type: 'Service type',
  clone: 'Clone',
  clone_service: 'Clone service',
  edit: 'Edit',
  edit_service: 'Edit service',
  delete_service: 'Delete Service',
  manage_collection: 'Manage Collection',
  test: 'Test',
  service_created: 'Service has successfully been created!',
  service_cloned: 'Service has successfully been cloned!',
  service_edited: 'Service has successfully been edited!',
  service_deleted: 'Service has successfully been deleted!',
  no_services: 'No services yet.',
  type_RECOGNITION: 'Recognition',
  type_DETECTION: 'Detection',
  type_VERIFY: 'Verification',
  type_help_RECOGNITION: 'Recognition: keep a collection of known people and find out who is on a photo.',
  type_help_DETECTION: 'Detection: find faces on a photo, with age, gender, landmarks and pose.',
  type_help_VERIFY: 'Verification: tell whether two photos show the same person.',
  threshold_value: 'threshold {value}',
  no_threshold: 'no threshold',
  no_threshold_choice: 'No threshold (answer like CompreFace)',
  service_threshold_help: 'Recognitions leave out stored faces less similar than this, so a face with no match left is "Unknown". A request\'s similarity_threshold overrides it. Without a threshold, every nearest face is returned, whatever its similarity.',
  // wizard
  wizard_step1: 'Create your application',
  wizard_step2: 'Add a service',
  wizard_intro: 'An application groups the services of one project and the people who work on it.',
  wizard_for_app: 'In the application {name}',
  wizard_skip: 'Skip',
  wizard_skip_help: 'Skip the setup and go to the applications',
  create_service_button: 'Create Service',
  // side menu
  dashboard: 'Dashboard',
  face_collection: 'Face Collection',
  // dashboard
  service_info: 'Service Info',
  created_on: 'Created on',
  total_images: 'Total Images',
  total_subjects: 'Subjects',
  requests_30_days: 'Requests per day, last 30 days',
  requests_6_months: 'Requests per month, last 6 months',
  no_data: 'No Data is Available',
  requests_n: '{label}: {value} requests',
  // test page
  test_title: 'Test the service',
  drop_image: 'Click here or drag and drop your image',
  source_image: 'Source image',
  target_image: 'Target image',
  available_ext: 'Available images extensions: jpeg, jpg, png, webp, bmp, gif. Max image size = {mb} MB ({bytes} bytes)',
  show_landmarks: 'Show landmarks',
  show_pose: 'Show pose',
  match_threshold: 'Match threshold',
  match_threshold_help: 'Faces whose best similarity is below the match threshold are shown as "Unknown". Changing it does not send a new request.',
  match_threshold_help_recognition: 'Sent as similarity_threshold: the server leaves out stored faces less similar, and a face with no match left is "Unknown". Starts at the service\'s match threshold, or at 0.50 when it has none. Raising it relabels the faces at once; lowering it asks again.',
  upload_new: 'Upload another image',
  clear: 'Clear',
  request: 'Request',
  response: 'Response',
  unknown: 'Unknown',
  faces_found: 'Faces found: {n}',
  verdict_same: 'Same person',
  verdict_different: 'Different people',
  verdict_detail: 'Similarity {similarity}, threshold {threshold}',
  face_n: 'Face {n}',
  matched_example: 'Stored example of {subject}',
  processing: 'Processing ...',
  face_detection_confidence: 'face detection confidence',
  quality_value: 'Quality: {value}',
  quality_reasons: 'Quality: {value} ({reasons})',
  quality_small: 'small',
  quality_blurred: 'blurred',
  quality_dark: 'dark',
  quality_bright: 'too bright',
  quality_turned: 'turned away',
  quality_uncertain: 'uncertain detection',
  // collection
  subjects: 'Subjects',
  search_subject: 'Search subject',
  add_subject: 'Add Subject',
  rename_subject: 'Rename subject',
  delete_subject: 'Delete subject',
  delete_subject_confirm: 'Delete the subject {name} and all its images?',
  delete_subjects_title: { one: 'Delete {count} subject', other: 'Delete {count} subjects' },
  delete_subjects_confirm: { one: 'Delete {count} subject and all its images?', other: 'Delete {count} subjects and all their images?' },
  join_subjects_title: 'Join Subjects',
  join_subjects_text: 'Subject with the same name already exists. Join the two subjects?',
  join: 'Join',
  bulk_select: 'Bulk Select',
  delete_selected: 'Delete selected ({n})',
  delete_images_title: { one: 'Delete {count} image', other: 'Delete {count} images' },
  delete_images_confirm: { one: 'Delete {count} image?', other: 'Delete {count} images?' },
  n_images: { one: '{count} image', other: '{count} images' },
  n_subjects: { one: '{count} subject', other: '{count} subjects' },
  no_subjects: 'No subjects yet.',
  no_subject_matches: 'No subject matches “{search}”.',
  no_images: 'No images yet.',
  select_subject: 'Select a subject on the left.',
  drop_images: 'Drop images here or click to choose files',
  load_more: 'Load more',
  read_only_collection: 'You can look at this collection; changing it needs the Administrator or Owner role in the application.',
  delete_image: 'Delete image',
  select_image: 'Select image',
  open_image: 'Open image {n} of {subject}',
  subject_created: 'Subject “{name}” created',
  subject_renamed: 'Subject renamed to “{name}”',
  subjects_joined: 'Subjects joined under “{name}”',
  subjects_deleted: { one: 'Subject “{name}” deleted', other: '{count} subjects deleted' },
  images_deleted: { one: 'Image deleted', other: '{count} images deleted' },
  // face viewer
  lightbox_title: 'Image {n} of {total}',
  image_id: 'Image ID',
  image_subject: 'Subject',
  image_added: 'Added',
  image_box: 'Face box',
  image_no_box: 'not kept for this image',
  image_not_stored: 'The photo of this face is not stored (images are not kept on this server).',
  previous_image: 'Previous image',
  next_image: 'Next image',
  // uploads
  upload_title: { one: 'Uploading {count} photo to {subject}', other: 'Uploading {count} photos to {subject}' },
  upload_running: 'Uploading {done} of {total} ({failed} failed)',
  upload_done: { one: 'Upload finished: {count} stored, {failed} failed', other: 'Upload finished: {count} stored, {failed} failed' },
  upload_waiting: 'Waiting',
  upload_uploading: 'Uploading',
  upload_failed_tile: '{name}: {reason}',
  dismiss_file: 'Dismiss {name}',
  // bulk import
  bulk_import: 'Bulk import',
  bulk_import_help: 'Drop a folder whose sub-folders are named after the subjects (people/alice/1.jpg, people/bob/2.jpg), or choose it.',
  choose_folder: 'Choose a folder',
  import_title: 'Import into {service}',
  import_running: 'Uploading {done} of {total} ({failed} failed)',
  import_done: 'Import finished: {ok} uploaded, {failed} failed',
  import_cancel: 'Stop',
  download_report: 'Download the report (CSV)',
  import_failures: 'Failed files',
  import_dismiss: 'Dismiss',
  no_files: 'No image files found in the drop',
  drop_folder: 'Drop a folder here',
  col_file: 'File',
  col_subject: 'Subject',
  col_reason: 'Reason',
  image_broken: 'The image cannot be displayed.',
  you: '(you)',
  times: '×{count}',
  expand_menu: 'Expand menu',
  collapse_menu: 'Collapse menu',
  service_menu: 'Service',
  breadcrumbs: 'Breadcrumbs',
  demo_title: 'Demo',
  // errors
  err_bad_credentials: 'E-mail or Password is incorrect.',
  err_email_used: 'This e-mail is already in use.',
  reason_too_large: 'Too large',
  reason_too_large_limit: 'Larger than {limit}, the limit',
  reason_no_face: 'No face found',
  reason_several_faces: 'Several faces',
  reason_not_image: 'Not an image',
  test_too_large: 'Larger than {mb} MB: the limit',
  reason_network: 'Network error',
  reason_stopped: 'Stopped',
  reason_no_subject: 'Not inside a subject folder',
  not_found: 'Not found',
  load_failed: 'Could not load the page',
};

/** @typedef {keyof typeof en} MessageKey */
/** @typedef {{ one?: string, other: string, zero?: string, two?: string, few?: string, many?: string }} PluralForms */

const pluralRules = new Intl.PluralRules('en');

/**
 * The form of a plural entry for `count` (its `other` form when `count` is not a number).
 * @param {PluralForms} forms
 * @param {unknown} count
 */
export function pluralForm(forms, count) {
  if (typeof count !== 'number') return forms.other;
  const category = /** @type {keyof PluralForms} */ (pluralRules.select(count));
  return forms[category] ?? forms.other;
}

/**
 * @param {MessageKey} key
 * @param {Record<string, string | number>} [vars]
 */
export function t(key, vars) {
  /** @type {string | PluralForms} */
  const entry = en[key] ?? key;
  const s = typeof entry === 'string' ? entry : pluralForm(entry, vars?.count);
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

/**
 * A size in bytes as people read it: "5 MB", "1.5 MB", "800 KB" (powers of 1024, as the server's
 * limits are set).
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? String(value) : String(Math.round(value * 10) / 10);
  return `${shown} ${units[unit]}`;
}
