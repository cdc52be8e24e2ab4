export type Role = 'OWNER' | 'ADMINISTRATOR' | 'USER';
export type ServiceType = 'RECOGNITION' | 'DETECTION' | 'VERIFY';

export interface Me {
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
}
export interface UserRole {
  userId: string;
  firstName: string;
  lastName: string;
  role: Role;
  email?: string;
}
export interface App {
  id: string;
  name: string;
  apiKey?: string;
  role: Role | null;
  owner: { userId: string; firstName: string; lastName: string };
}
/** A deletion whose rows are being purged (`GET /admin/app/{app}/deletions`). */
export interface Deletion {
  id: string;
  kind: 'APPLICATION' | 'SERVICE' | 'SUBJECTS';
  appId: string;
  serviceId?: string;
  name: string;
  percent: number;
}

export interface Model {
  id: string;
  name: string;
  apiKey: string;
  type: ServiceType;
  createdDate?: string;
  /** Recognition services only: the similarity below which recognitions leave a stored face out; null: none. */
  matchThreshold?: number | null;
  subjectCount?: number;
  imageCount?: number;
}
export interface StatRow {
  requestCount: number;
  createdDate?: string | null;
}
export interface ApiConfig {
  clientMaxFileSize?: number;
  clientMaxBodySize?: number;
}
export interface ConsistenceStatus {
  demoFaceCollectionIsInconsistent?: boolean;
  dbIsInconsistent?: boolean;
  saveImagesToDB?: boolean;
  status?: string;
}
export interface AdminStatus {
  status?: string;
  demoKeysActive?: boolean;
  [k: string]: unknown;
}
export interface CoreStatus {
  status?: string;
  build_version?: string;
  available_plugins?: Record<string, string>;
}
export interface FaceImage {
  image_id: string;
  subject: string;
}
export interface FaceBox {
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
}
export interface FaceDetails {
  image_id: string;
  subject: string;
  /** Where the face was found in the stored photo (null for faces stored without it). */
  box: FaceBox | null;
  created_at: string;
  has_image: boolean;
}
export interface FacesPage {
  faces: FaceImage[];
  page_number: number;
  page_size: number;
  total_pages: number;
  total_elements: number;
}
